// The tokens file, rights and credentials (access_tokens.h), and the live set (access_control.h).
#include "internal/server/access_tokens.h"

#include <catch2/catch.hpp>

#include "internal/server/access_control.h"
#include "internal/server/change_feed.h"

namespace keyva::server {
namespace {

std::string Digest(std::string_view token) { return HexDigest(Sha256(token)); }

std::string Line(std::string_view name, std::string_view token, std::string_view rest) {
  return std::string(name) + " " + Digest(token) + " " + std::string(rest) + "\n";
}

std::shared_ptr<const TokenSet> ParseOk(const std::string& text) {
  std::string error;
  auto set = TokenSet::Parse(text, &error);
  INFO(error);
  REQUIRE(set);
  return set;
}

std::string ParseError(const std::string& text) {
  std::string error;
  CHECK(TokenSet::Parse(text, &error) == nullptr);
  return error;
}

}  // namespace

TEST_CASE("SHA-256 digests print as sha256sum does") {
  CHECK(Digest("test") == "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08");
}

TEST_CASE("a tokens file with comments, rights and an expiry parses") {
  auto set = ParseOk("# keyva tokens\n\n" + Line("reader", "r-token", "read:kv/cfg/") + "  " +
                     Line("ops", "o-token", "write delete:kv/tmp/ admin\t") +
                     Line("old", "x-token", "read expires=2001-02-03T04:05:06Z"));
  CHECK(set->size() == 3);
  auto reader = set->Find("r-token");
  REQUIRE(reader);
  CHECK(reader->name() == "reader");
  CHECK(reader->Allows(Right::kRead, KeySpace::kKv, "cfg/app"));
  CHECK_FALSE(reader->Allows(Right::kRead, KeySpace::kKv, "other"));
  CHECK_FALSE(reader->Allows(Right::kRead, KeySpace::kSeq, "cfg/app"));
  CHECK_FALSE(reader->Allows(Right::kWrite, KeySpace::kKv, "cfg/app"));
  CHECK_FALSE(reader->Allows(Right::kAdmin, KeySpace::kKv, ""));
  CHECK_FALSE(reader->expires());

  auto ops = set->Find("o-token");
  REQUIRE(ops);
  CHECK(ops->Allows(Right::kWrite, KeySpace::kKv, "anything"));
  CHECK(ops->Allows(Right::kWrite, KeySpace::kSeq, "n"));
  CHECK(ops->Allows(Right::kDelete, KeySpace::kKv, "tmp/x"));
  CHECK_FALSE(ops->Allows(Right::kDelete, KeySpace::kKv, "cfg/x"));
  CHECK_FALSE(ops->Allows(Right::kDelete, KeySpace::kSeq, "tmp/x"));
  CHECK(ops->Allows(Right::kAdmin, KeySpace::kKv, ""));
  CHECK_FALSE(ops->Allows(Right::kRead, KeySpace::kKv, "anything"));

  auto old = set->Find("x-token");
  REQUIRE(old);
  REQUIRE(old->expires());
  CHECK(old->ExpiredAt(std::chrono::system_clock::now()));
  CHECK_FALSE(old->ExpiredAt(*old->expires() - std::chrono::seconds(1)));

  CHECK(set->Find("r-toke") == nullptr);
  CHECK(set->Find("") == nullptr);
  CHECK(set->Find(Digest("r-token")) == nullptr);  // the digest is not the token
}

TEST_CASE("bad tokens files name the line and the field") {
  const std::string good = Line("a", "t1", "read");
  struct Case {
    std::string text;
    const char* mentions;
  };
  for (const Case& c : std::vector<Case>{
           {good + "b " + Digest("t2") + "\n", "line 2: expected NAME SHA256-HEX RIGHT"},
           {good + "b t2-in-clear read\n", "line 2: token 'b': the second field must be"},
           {good + "b " + Digest("t2").substr(1) + "x read\n", "SHA-256 as 64 hex"},
           {good + "b/c " + Digest("t2") + " read\n", "line 2: the name 'b/c'"},
           {good + Line("a", "t2", "read"), "line 2: the name 'a' is used twice"},
           {good + Line("b", "t1", "read"), "digest of an earlier token"},
           {good + Line("b", "t2", "peek"), "line 2: token 'b': unknown right 'peek'"},
           {good + Line("b", "t2", "read:cfg/"), "must name its keys as kv/PREFIX or seq/PREFIX"},
           {good + Line("b", "t2", "admin:kv/x"), "'admin' takes no keys"},
           {good + Line("b", "t2", "read:kv/%zz"), "malformed %-escape"},
           {good + Line("b", "t2", "expires=2026-01-01T00:00:00Z"), "token 'b' has no rights"},
           {good + Line("b", "t2", "read expires=tomorrow"), "expires 'tomorrow' is not an RFC"},
           {good +
                Line("b", "t2", "read expires=2026-01-01T00:00:00Z expires=2027-01-01T00:00:00Z"),
            "expires= is given twice"},
       }) {
    INFO(c.text);
    const std::string error = ParseError(c.text);
    INFO(error);
    CHECK(error.find(c.mentions) != std::string::npos);
  }
  std::string error;
  CHECK(TokenSet::Load("no/such/tokens-file", &error) == nullptr);
  CHECK(error.find("no/such/tokens-file") != std::string::npos);
}

TEST_CASE("grants parse and print in one form") {
  std::vector<Grant> grants;
  std::string error;
  REQUIRE(ParseGrant("read:kv/with%20space%25", &grants, &error));
  REQUIRE(grants.size() == 1);
  CHECK(grants[0].prefix == "with space%");
  CHECK(FormatGrant(grants[0]) == "read:kv/with%20space%25");
  grants.clear();
  REQUIRE(ParseGrant("delete", &grants, &error));
  REQUIRE(grants.size() == 2);
  CHECK(FormatGrant(grants[0]) == "delete:kv/");
  CHECK(FormatGrant(grants[1]) == "delete:seq/");
  grants.clear();
  REQUIRE(ParseGrant("admin", &grants, &error));
  CHECK(FormatGrant(grants[0]) == "admin");
}

TEST_CASE("read rights cover all, some or none of a prefix") {
  auto set = ParseOk(Line("t", "tok", "read:kv/a/b/ read:kv/c read:seq/n/"));
  auto t = set->Find("tok");
  REQUIRE(t);
  CHECK(t->CanReadAll(KeySpace::kKv, "a/b/"));
  CHECK(t->CanReadAll(KeySpace::kKv, "a/b/c"));
  CHECK_FALSE(t->CanReadAll(KeySpace::kKv, "a/"));
  CHECK(t->CanReadSome(KeySpace::kKv, "a/"));
  CHECK(t->CanReadSome(KeySpace::kKv, ""));
  CHECK(t->CanReadSome(KeySpace::kKv, "cat"));
  CHECK_FALSE(t->CanReadSome(KeySpace::kKv, "b"));
  CHECK_FALSE(t->CanReadSome(KeySpace::kKv, "n/"));
  CHECK(t->CanReadSome(KeySpace::kSeq, "n/"));
  CHECK(t->ReadPrefixes(KeySpace::kKv) == std::vector<std::string>{"a/b/", "c"});
}

TEST_CASE("RFC 3339 times") {
  using std::chrono::system_clock;
  auto at = [](const char* s) { return ParseRfc3339(s); };
  REQUIRE(at("1970-01-01T00:00:00Z"));
  CHECK(*at("1970-01-01T00:00:00Z") == system_clock::time_point{});
  CHECK(*at("1970-01-01T01:00:00+01:00") == system_clock::time_point{});
  CHECK(*at("1969-12-31t23:30:00-00:30") == system_clock::time_point{});
  CHECK(*at("1970-01-01 00:00:01.5z") ==
        system_clock::time_point{} + std::chrono::milliseconds(1500));
  CHECK(*at("2001-09-09T01:46:40Z") == system_clock::from_time_t(1'000'000'000));
  CHECK(*at("2200-01-01T00:00:00Z") > system_clock::now());
  for (const char* bad :
       {"", "2026-01-01", "2026-01-01T00:00:00", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z",
        "2026-01-01T24:00:00Z", "2026-01-01T00:00:00.Z", "2026-01-01T00:00:00+0100",
        "2026-01-01T00:00:00Zjunk", "9999-01-01T00:00:00Z", "0001-01-01T00:00:00Z"}) {
    INFO(bad);
    CHECK_FALSE(at(bad));
  }
}

TEST_CASE("credentials come from Bearer or Basic (any user, the token as password)") {
  auto cred = [](std::string_view h) { return CredentialFromAuthorization(h); };
  CHECK(cred("Bearer secret") == "secret");
  CHECK(cred("bearer secret") == "secret");
  CHECK(cred("BEARER  secret ") == "secret");
  CHECK(cred("Basic dXNlcjpzZWNyZXQ=") == "secret");  // user:secret
  CHECK(cred("basic OnNlY3JldA") == "secret");        // :secret, unpadded
  CHECK(cred("Basic dTpzZTpjcmV0") == "se:cret");     // u:se:cret
  CHECK_FALSE(cred("Basic c2VjcmV0"));                // secret: no ':'
  CHECK_FALSE(cred("Basic dXNlcjo="));                // user: (no password)
  CHECK_FALSE(cred("Basic not*base64"));
  CHECK_FALSE(cred("secret"));
  CHECK_FALSE(cred("Bearer "));
  CHECK_FALSE(cred(""));
  CHECK_FALSE(cred("Digest secret"));
}

TEST_CASE("new tokens are 43 base64url characters and differ") {
  const std::string a = NewRandomToken(), b = NewRandomToken();
  CHECK(a.size() == 43);
  CHECK(a != b);
  CHECK(a.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
        std::string::npos);
}

TEST_CASE("access control: --auth-token is an all-rights token, and who credentials name") {
  ServerConfig config;
  CHECK_FALSE(AccessControl(config).enabled());
  config.auth_token = "tok";
  AccessControl access(config);
  CHECK(access.enabled());
  CHECK_FALSE(access.auth_reads());
  const auto now = std::chrono::system_clock::now();
  using Outcome = AccessControl::Identity::Outcome;
  CHECK(access.Identify(false, "", now).outcome == Outcome::kMissing);
  CHECK(access.Identify(true, "Bearer nope", now).outcome == Outcome::kInvalid);
  CHECK(access.Identify(true, "nonsense", now).outcome == Outcome::kInvalid);
  AccessControl::Identity id = access.Identify(true, "Bearer tok", now);
  REQUIRE(id.outcome == Outcome::kOk);
  CHECK(id.token->name() == "auth-token");
  for (Right r : {Right::kRead, Right::kWrite, Right::kDelete, Right::kAdmin}) {
    CHECK(id.token->Allows(r, KeySpace::kKv, "any"));
    CHECK(id.token->Allows(r, KeySpace::kSeq, "any"));
  }
  std::string summary, error;
  CHECK_FALSE(access.Reload(&summary, &error));  // no file

  ServerConfig reads_only;
  reads_only.auth_reads = true;
  CHECK(AccessControl::Open(reads_only, &error) == nullptr);
  CHECK(error.find("--auth-reads needs") != std::string::npos);
}

TEST_CASE("restricted watch filters show only readable keys") {
  WatchFilter f;
  f.prefix = "a/";
  f.restricted = true;
  f.value_prefixes = {"a/v/", "a/both/"};
  f.counter_prefixes = {"a/c/", "a/both/"};
  ChangeEvent put, counter;
  put.type = ChangeType::kPut;
  counter.type = ChangeType::kCounter;
  put.key = counter.key = "a/v/1";
  CHECK(f.Matches(put));
  CHECK_FALSE(f.Matches(counter));
  put.key = counter.key = "a/c/1";
  CHECK_FALSE(f.Matches(put));
  CHECK(f.Matches(counter));
  put.key = "b/v/1";
  CHECK_FALSE(f.Matches(put));
  put.key = counter.key = "a/both/x";
  CHECK(f.Matches(put));
  CHECK(f.Matches(counter));
  f.restricted = false;
  put.key = counter.key = "a/v/1";
  CHECK(f.Matches(put));
  CHECK(f.Matches(counter));
}

}  // namespace keyva::server
