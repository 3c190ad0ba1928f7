// Tokens, rights and the tokens file; see access_tokens.h.
#include "internal/server/access_tokens.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>

#include "internal/server/base64.h"
#include "internal/server/uri_decoding.h"

namespace keyva::server {
namespace {

constexpr size_t kMaxTokenNameSize = 64;

bool IsNameChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '_' || c == '-';
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); i++) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool ParseHexDigest(std::string_view hex, Sha256Digest* out) {
  if (hex.size() != 64) return false;
  for (size_t i = 0; i < 32; i++) {
    const int hi = HexValue(hex[2 * i]), lo = HexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    (*out)[i] = static_cast<unsigned char>(hi * 16 + lo);
  }
  return true;
}

bool ParseDigits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; i++) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

std::shared_ptr<const AccessToken> ParseLine(std::string_view line, std::string* error) {
  std::vector<std::string_view> fields;
  while (!line.empty()) {
    const size_t end = line.find_first_of(" \t");
    fields.push_back(line.substr(0, end));
    line = end == std::string_view::npos ? std::string_view() : Trim(line.substr(end));
  }
  if (fields.size() < 3) {
    *error = "expected NAME SHA256-HEX RIGHT... [expires=TIME], got " +
             std::to_string(fields.size()) + " field" + (fields.size() == 1 ? "" : "s");
    return nullptr;
  }
  const std::string_view name = fields[0];
  if (name.size() > kMaxTokenNameSize || !std::all_of(name.begin(), name.end(), IsNameChar)) {
    *error = "the name '" + std::string(name.substr(0, 80)) +
             "' must be 1 to 64 letters, digits, '.', '_' or '-'";
    return nullptr;
  }
  Sha256Digest digest;
  if (!ParseHexDigest(fields[1], &digest)) {
    *error = "token '" + std::string(name) +
             "': the second field must be the token's SHA-256 as 64 hex digits (never the token "
             "itself)";
    return nullptr;
  }
  std::vector<Grant> grants;
  std::optional<std::chrono::system_clock::time_point> expires;
  for (size_t i = 2; i < fields.size(); i++) {
    const std::string_view f = fields[i];
    if (StartsWith(f, "expires=")) {
      if (expires) {
        *error = "token '" + std::string(name) + "': expires= is given twice";
        return nullptr;
      }
      expires = ParseRfc3339(f.substr(8));
      if (!expires) {
        *error = "token '" + std::string(name) + "': expires '" + std::string(f.substr(8, 60)) +
                 "' is not an RFC 3339 time such as 2027-01-01T00:00:00Z (before the year 2262)";
        return nullptr;
      }
      continue;
    }
    std::string grant_error;
    if (!ParseGrant(f, &grants, &grant_error)) {
      *error = "token '" + std::string(name) + "': " + grant_error;
      return nullptr;
    }
  }
  if (grants.empty()) {
    *error = "token '" + std::string(name) + "' has no rights";
    return nullptr;
  }
  return std::make_shared<const AccessToken>(std::string(name), digest, std::move(grants), expires);
}

}  // namespace

std::string_view RightName(Right right) {
  switch (right) {
    case Right::kRead:
      return "read";
    case Right::kWrite:
      return "write";
    case Right::kDelete:
      return "delete";
    case Right::kAdmin:
      return "admin";
  }
  return "?";
}

std::string_view KeySpaceName(KeySpace space) { return space == KeySpace::kKv ? "kv" : "seq"; }

bool ParseGrant(std::string_view text, std::vector<Grant>* out, std::string* error) {
  const size_t colon = text.find(':');
  const std::string_view verb = text.substr(0, colon);
  Grant g;
  if (verb == "read") {
    g.right = Right::kRead;
  } else if (verb == "write") {
    g.right = Right::kWrite;
  } else if (verb == "delete") {
    g.right = Right::kDelete;
  } else if (verb == "admin") {
    g.right = Right::kAdmin;
  } else {
    *error = "unknown right '" + std::string(text.substr(0, 80)) +
             "': expected read, write, delete or admin, optionally with :kv/PREFIX or "
             ":seq/PREFIX";
    return false;
  }
  if (colon == std::string_view::npos) {
    if (g.right == Right::kAdmin) {
      out->push_back(g);
      return true;
    }
    g.space = KeySpace::kKv;
    out->push_back(g);
    g.space = KeySpace::kSeq;
    out->push_back(g);
    return true;
  }
  if (g.right == Right::kAdmin) {
    *error = "the right 'admin' takes no keys, got '" + std::string(text.substr(0, 80)) + "'";
    return false;
  }
  std::string_view scope = text.substr(colon + 1);
  if (StartsWith(scope, "kv/")) {
    g.space = KeySpace::kKv;
    scope.remove_prefix(3);
  } else if (StartsWith(scope, "seq/")) {
    g.space = KeySpace::kSeq;
    scope.remove_prefix(4);
  } else {
    *error = "the right '" + std::string(text.substr(0, 80)) +
             "' must name its keys as kv/PREFIX or seq/PREFIX";
    return false;
  }
  if (!PercentDecode(scope, false, &g.prefix) || !IsValidUtf8(g.prefix)) {
    *error = "the prefix of '" + std::string(text.substr(0, 80)) +
             "' has a malformed %-escape or is not UTF-8";
    return false;
  }
  out->push_back(std::move(g));
  return true;
}

std::string FormatGrant(const Grant& grant) {
  std::string out(RightName(grant.right));
  if (grant.right == Right::kAdmin) return out;
  out += ':';
  out += KeySpaceName(grant.space);
  out += '/';
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (unsigned char c : grant.prefix) {
    if (c <= ' ' || c == '%' || c == 0x7f) {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

Sha256Digest Sha256(std::string_view data) {
  Sha256Digest out{};
  unsigned len = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha256(), nullptr) != 1 ||
      len != out.size()) {
    throw std::runtime_error("SHA-256 failed (OpenSSL EVP_Digest)");
  }
  return out;
}

std::string HexDigest(const Sha256Digest& digest) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : digest) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

std::optional<std::chrono::system_clock::time_point> ParseRfc3339(std::string_view s) {
  // YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)
  int year, month, day, hour, minute, second;
  if (s.size() < 20 || !ParseDigits(s, 0, 4, &year) || s[4] != '-' ||
      !ParseDigits(s, 5, 2, &month) || s[7] != '-' || !ParseDigits(s, 8, 2, &day) ||
      (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !ParseDigits(s, 11, 2, &hour) ||
      s[13] != ':' || !ParseDigits(s, 14, 2, &minute) || s[16] != ':' ||
      !ParseDigits(s, 17, 2, &second)) {
    return std::nullopt;
  }
  size_t pos = 19;
  std::chrono::nanoseconds fraction{0};
  if (pos < s.size() && s[pos] == '.') {
    pos++;
    int64_t scale = 100'000'000;
    const size_t start = pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      fraction += std::chrono::nanoseconds((s[pos] - '0') * scale);
      scale /= 10;
      pos++;
    }
    if (pos == start) return std::nullopt;
  }
  std::chrono::minutes offset{0};
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    pos++;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int oh, om;
    if (!ParseDigits(s, pos + 1, 2, &oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !ParseDigits(s, pos + 4, 2, &om) || oh > 23 || om > 59) {
      return std::nullopt;
    }
    offset = std::chrono::minutes(oh * 60 + om);
    if (s[pos] == '-') offset = -offset;
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  const std::chrono::year_month_day ymd{std::chrono::year(year),
                                        std::chrono::month(static_cast<unsigned>(month)),
                                        std::chrono::day(static_cast<unsigned>(day))};
  if (!ymd.ok() || hour > 23 || minute > 59 || second > 60) return std::nullopt;
  // In seconds first: the clock's own unit (nanoseconds) reaches only the year 2262.
  const std::chrono::sys_seconds utc = std::chrono::sys_days(ymd) + std::chrono::hours(hour) +
                                       std::chrono::minutes(minute) + std::chrono::seconds(second) -
                                       offset;
  using Clock = std::chrono::system_clock;
  const auto limit =
      std::chrono::floor<std::chrono::seconds>(Clock::time_point::max()) - std::chrono::hours(24);
  if (utc > limit || utc < -limit.time_since_epoch() + std::chrono::sys_seconds{}) {
    return std::nullopt;
  }
  return std::chrono::time_point_cast<Clock::duration>(utc) +
         std::chrono::duration_cast<Clock::duration>(fraction);
}

AccessToken::AccessToken(std::string name, const Sha256Digest& digest, std::vector<Grant> grants,
                         std::optional<std::chrono::system_clock::time_point> expires)
    : name_(std::move(name)), digest_(digest), grants_(std::move(grants)), expires_(expires) {}

bool AccessToken::Allows(Right right, KeySpace space, std::string_view key) const {
  for (const Grant& g : grants_) {
    if (g.right != right) continue;
    if (right == Right::kAdmin || (g.space == space && StartsWith(key, g.prefix))) return true;
  }
  return false;
}

bool AccessToken::CanReadAll(KeySpace space, std::string_view prefix) const {
  return Allows(Right::kRead, space, prefix);
}

bool AccessToken::CanReadSome(KeySpace space, std::string_view prefix) const {
  for (const Grant& g : grants_) {
    if (g.right != Right::kRead || g.space != space) continue;
    if (StartsWith(prefix, g.prefix) || StartsWith(g.prefix, prefix)) return true;
  }
  return false;
}

std::vector<std::string> AccessToken::ReadPrefixes(KeySpace space) const {
  std::vector<std::string> out;
  for (const Grant& g : grants_) {
    if (g.right == Right::kRead && g.space == space) out.push_back(g.prefix);
  }
  return out;
}

std::shared_ptr<const TokenSet> TokenSet::Parse(std::string_view text, std::string* error) {
  auto set = std::make_shared<TokenSet>();
  std::set<std::string, std::less<>> names;
  std::set<Sha256Digest> digests;
  size_t line_no = 0;
  while (!text.empty()) {
    line_no++;
    const size_t nl = text.find('\n');
    const std::string_view line = Trim(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (line.empty() || line.front() == '#') continue;
    std::string why;
    std::shared_ptr<const AccessToken> token = ParseLine(line, &why);
    if (token && !names.insert(token->name()).second) {
      why = "the name '" + token->name() + "' is used twice";
      token = nullptr;
    } else if (token && !digests.insert(token->digest()).second) {
      why = "token '" + token->name() + "' has the digest of an earlier token";
      token = nullptr;
    }
    if (!token) {
      *error = "line " + std::to_string(line_no) + ": " + why;
      return nullptr;
    }
    set->tokens_.push_back(std::move(token));
  }
  return set;
}

std::shared_ptr<const TokenSet> TokenSet::Load(const std::string& path, std::string* error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = "cannot read the tokens file '" + path + "'";
    return nullptr;
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    *error = "cannot read the tokens file '" + path + "'";
    return nullptr;
  }
  std::string why;
  std::shared_ptr<const TokenSet> set = Parse(text.str(), &why);
  if (!set) *error = "tokens file '" + path + "', " + why;
  return set;
}

std::vector<Grant> AllGrants() {
  std::vector<Grant> grants;
  std::string unused;
  for (std::string_view right : {"read", "write", "delete", "admin"}) {
    (void)ParseGrant(right, &grants, &unused);
  }
  return grants;
}

void TokenSet::AddAllRights(std::string name, std::string_view clear_token) {
  tokens_.push_back(std::make_shared<const AccessToken>(std::move(name), Sha256(clear_token),
                                                        AllGrants(), std::nullopt));
}

void TokenSet::AddAll(const TokenSet& other) {
  tokens_.insert(tokens_.end(), other.tokens_.begin(), other.tokens_.end());
}

std::shared_ptr<const AccessToken> TokenSet::Find(std::string_view presented) const {
  const Sha256Digest digest = Sha256(presented);
  std::shared_ptr<const AccessToken> found;
  for (const auto& token : tokens_) {
    // Every digest is compared, whichever matches.
    const bool same = CRYPTO_memcmp(digest.data(), token->digest().data(), digest.size()) == 0;
    if (same) found = token;
  }
  return found;
}

std::optional<std::string> CredentialFromAuthorization(std::string_view authorization) {
  authorization = Trim(authorization);
  const size_t space = authorization.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  const std::string_view scheme = authorization.substr(0, space);
  const std::string_view rest = Trim(authorization.substr(space + 1));
  if (rest.empty()) return std::nullopt;
  if (EqualsIgnoreCase(scheme, "bearer")) return std::string(rest);
  if (!EqualsIgnoreCase(scheme, "basic")) return std::nullopt;
  std::optional<std::string> decoded = DecodeBase64(rest);
  if (!decoded) return std::nullopt;
  const size_t colon = decoded->find(':');
  if (colon == std::string::npos || colon + 1 == decoded->size()) return std::nullopt;
  return decoded->substr(colon + 1);
}

std::string NewRandomToken() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    throw std::runtime_error("the random generator failed (OpenSSL RAND_bytes)");
  }
  return EncodeBase64Url(bytes, sizeof bytes);
}

}  // namespace keyva::server
