// Access tokens: who may do what (--tokens-file, --auth-token).
//
// A token is a secret string a client presents ("Authorization: Bearer TOKEN", or Basic auth with
// any user name and TOKEN as the password). keyvad never keeps it in clear: a TokenSet holds the
// SHA-256 digest of each token, with its name, its rights and an optional expiry.
//
// Rights are grants of one verb over the keys of one space that start with a prefix:
//   read:kv/PREFIX     GET/HEAD of values, listings and watches of keys starting with PREFIX
//   write:kv/PREFIX    PUT/POST of such values
//   delete:kv/PREFIX   DELETE of such values
//   read:seq/PREFIX, write:seq/PREFIX (POST, add), delete:seq/PREFIX (DELETE, reset): counters
//   read, write, delete without ":..." are the verb over every key and every counter;
//   admin              checkpoints, /api/stats and /metrics (when reads need a token)
// PREFIX is percent-decoded (so %20 is a space, %25 a '%'); an empty one covers every key.
//
// The tokens file is UTF-8 text, one token per line; '#' starts a comment line, blank lines are
// skipped. Fields are separated by spaces or tabs:
//   NAME SHA256-HEX RIGHT... [expires=RFC3339-TIME]
//   ci-deploy 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 read:kv/cfg/
//   write:kv/cfg/ expires=2027-01-01T00:00:00Z         (one line in the file)
// NAME is 1-64 of [A-Za-z0-9._-], unique in the file; the digest is 64 hex digits (the SHA-256
// of the token's bytes, as `printf %s TOKEN | sha256sum` prints it), unique too; at least one
// right. A token past its expiry is refused as if unknown. `keyva token new NAME` makes a token
// and prints its line.
//
// Lookups hash the presented token and compare it with every digest in the set in constant time
// (CRYPTO_memcmp, no early exit), so timing reveals neither which token matched nor how much of it.
//
// Thread-safety: a TokenSet is immutable once parsed; share it (as shared_ptr<const TokenSet>)
// between threads freely. The free functions are pure.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace keyva::server {

enum class Right { kRead, kWrite, kDelete, kAdmin };
// Which keys a right is over: values (/kv) or counters (/seq). Admin has none.
enum class KeySpace { kKv, kSeq };

// "read", "write", "delete", "admin".
std::string_view RightName(Right right);
// "kv", "seq".
std::string_view KeySpaceName(KeySpace space);

struct Grant {
  Right right = Right::kRead;
  KeySpace space = KeySpace::kKv;  // ignored for kAdmin
  std::string prefix;              // decoded; "" covers every key

  bool operator==(const Grant&) const = default;
};

// Parses one right as the file writes it ("read:kv/cfg/", "write", "admin"). A bare verb gives
// two grants (kv and seq, every key). False and *error (naming the text) when malformed.
bool ParseGrant(std::string_view text, std::vector<Grant>* out, std::string* error);
// Every right: read, write and delete over every key and counter, and admin (what --auth-token
// grants, and what everyone may do when no token is configured).
std::vector<Grant> AllGrants();
// The file form of a grant ("read:kv/cfg/"; a prefix's spaces, '%' and controls %-escaped).
std::string FormatGrant(const Grant& grant);

using Sha256Digest = std::array<unsigned char, 32>;
Sha256Digest Sha256(std::string_view data);
std::string HexDigest(const Sha256Digest& digest);  // 64 lowercase hex digits

// "2026-01-01T00:00:00Z", "2026-01-01T02:00:00.5+02:00" (RFC 3339; 't', 'z' and a space for 'T'
// accepted). nullopt when malformed or out of the clock's range (years 1678 to 2261).
std::optional<std::chrono::system_clock::time_point> ParseRfc3339(std::string_view text);

class AccessToken {
 public:
  AccessToken(std::string name, const Sha256Digest& digest, std::vector<Grant> grants,
              std::optional<std::chrono::system_clock::time_point> expires);

  const std::string& name() const { return name_; }
  const Sha256Digest& digest() const { return digest_; }
  const std::vector<Grant>& grants() const { return grants_; }
  const std::optional<std::chrono::system_clock::time_point>& expires() const { return expires_; }
  bool ExpiredAt(std::chrono::system_clock::time_point now) const {
    return expires_ && now >= *expires_;
  }

  // True when a grant of right over space covers key (its prefix starts key). For kAdmin, space
  // and key are ignored.
  bool Allows(Right right, KeySpace space, std::string_view key) const;
  // True when every key starting with prefix is readable (some read grant's prefix starts it).
  bool CanReadAll(KeySpace space, std::string_view prefix) const;
  // True when some key starting with prefix may be readable (a read grant's prefix starts it,
  // or it starts a grant's prefix).
  bool CanReadSome(KeySpace space, std::string_view prefix) const;
  // The prefixes of the read grants over space (each covers its keys).
  std::vector<std::string> ReadPrefixes(KeySpace space) const;

 private:
  std::string name_;
  Sha256Digest digest_;
  std::vector<Grant> grants_;
  std::optional<std::chrono::system_clock::time_point> expires_;
};

class TokenSet {
 public:
  // Parses the tokens file's text (format above). nullptr and *error ("line 3: ..." naming the
  // field) when any line is malformed: a file is taken whole or not at all.
  static std::shared_ptr<const TokenSet> Parse(std::string_view text, std::string* error);
  // Reads and parses path; *error also names the file.
  static std::shared_ptr<const TokenSet> Load(const std::string& path, std::string* error);

  TokenSet() = default;
  // Adds a token with every right (--auth-token). REQUIRES: clear_token is not empty.
  void AddAllRights(std::string name, std::string_view clear_token);
  // Adds every token of other.
  void AddAll(const TokenSet& other);

  // The token whose digest is SHA-256(presented), or nullptr. Constant time in presented's
  // contents (not its length, which hashing hides) over the whole set.
  std::shared_ptr<const AccessToken> Find(std::string_view presented) const;

  size_t size() const { return tokens_.size(); }
  bool empty() const { return tokens_.empty(); }

 private:
  std::vector<std::shared_ptr<const AccessToken>> tokens_;
};

// The credential in an Authorization header value: the token of "Bearer TOKEN", or the password
// of "Basic base64(user:password)" (schemes case-insensitive). nullopt when the header is
// neither, or the Basic part is not valid base64 with a ':'.
std::optional<std::string> CredentialFromAuthorization(std::string_view authorization);

// 32 bytes from OpenSSL's RAND_bytes, base64url without padding (43 characters). Throws
// std::runtime_error when the generator fails.
std::string NewRandomToken();

}  // namespace keyva::server
