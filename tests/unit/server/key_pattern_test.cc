// KeyPattern: globs (*, **, ?, \), contains, the literal prefix, bad patterns, and the matcher
// against a plain backtracking one on random keys and globs.
#include "internal/server/key_pattern.h"

#include <catch2/catch.hpp>
#include <random>
#include <string>

namespace keyva::server {
namespace {

KeyPattern GlobOf(std::string_view glob) {
  std::string error;
  std::optional<KeyPattern> p = KeyPattern::Glob(glob, &error);
  INFO(error);
  REQUIRE(p.has_value());
  return *p;
}

TEST_CASE("KeyPattern: * stays in a path segment, ** crosses them, ? is one character") {
  const KeyPattern flags = GlobOf("config/*/feature*");
  CHECK(flags.Matches("config/app/feature-flags.json"));
  CHECK(flags.Matches("config/x/feature"));
  CHECK_FALSE(flags.Matches("config/app/v2/feature-x"));
  CHECK_FALSE(flags.Matches("config/feature"));
  CHECK(flags.literal_prefix() == "config/");

  const KeyPattern json = GlobOf("**.json");
  CHECK(json.Matches("a/b/c.json"));
  CHECK(json.Matches(".json"));
  CHECK_FALSE(json.Matches("a/b/c.json5"));
  CHECK(json.literal_prefix().empty());

  const KeyPattern one = GlobOf("user-?");
  CHECK(one.Matches("user-1"));
  CHECK(one.Matches("user-é"));  // one character, two bytes
  CHECK_FALSE(one.Matches("user-12"));
  CHECK_FALSE(one.Matches("user-/"));
  CHECK_FALSE(one.Matches("user-"));

  // A glob matches the whole key, case-sensitively; \ makes the next character literal.
  CHECK_FALSE(GlobOf("config").Matches("config/app"));
  CHECK_FALSE(GlobOf("Config/**").Matches("config/app"));
  const KeyPattern star = GlobOf("a\\*b");
  CHECK(star.Matches("a*b"));
  CHECK_FALSE(star.Matches("axb"));
  CHECK(star.literal_prefix() == "a*b");
}

TEST_CASE("KeyPattern: contains finds the text anywhere, ASCII case aside") {
  std::string error;
  std::optional<KeyPattern> p = KeyPattern::Contains("FLAGS", &error);
  REQUIRE(p);
  CHECK(p->Matches("config/app/feature-flags.json"));
  CHECK(p->Matches("flags"));
  CHECK_FALSE(p->Matches("config/app/feature-flag.json"));
  CHECK(p->literal_prefix().empty());
}

TEST_CASE("KeyPattern: bad patterns are refused with the reason") {
  std::string error;
  CHECK_FALSE(KeyPattern::Glob("", &error));
  CHECK(error.find("empty") != std::string::npos);
  CHECK_FALSE(KeyPattern::Glob("abc\\", &error));
  CHECK(error.find("lone") != std::string::npos);
  CHECK_FALSE(KeyPattern::Glob(std::string(KeyPattern::kMaxSize + 1, 'a'), &error));
  CHECK(error.find("limit") != std::string::npos);
  CHECK_FALSE(KeyPattern::Glob(std::string(KeyPattern::kMaxWildcards + 1, '?'), &error));
  CHECK(error.find("wildcards") != std::string::npos);
  CHECK(KeyPattern::Glob(std::string(KeyPattern::kMaxWildcards, '?'), &error));
  CHECK_FALSE(KeyPattern::Contains("", &error));
  CHECK_FALSE(KeyPattern::Contains(std::string(KeyPattern::kMaxSize + 1, 'a'), &error));
}

// The plain definition, by backtracking (ASCII keys: ? is one byte here).
bool Reference(std::string_view glob, std::string_view key) {
  if (glob.empty()) return key.empty();
  if (glob.substr(0, 2) == "**") {
    for (size_t n = 0; n <= key.size(); n++) {
      if (Reference(glob.substr(2), key.substr(n))) return true;
    }
    return false;
  }
  if (glob[0] == '*') {
    for (size_t n = 0; n <= key.size(); n++) {
      if (n > 0 && key[n - 1] == '/') break;
      if (Reference(glob.substr(1), key.substr(n))) return true;
    }
    return false;
  }
  if (key.empty()) return false;
  if (glob[0] == '?') return key[0] != '/' && Reference(glob.substr(1), key.substr(1));
  return glob[0] == key[0] && Reference(glob.substr(1), key.substr(1));
}

TEST_CASE("KeyPattern: globs agree with backtracking on random keys (randomized)") {
  std::mt19937 rng(7);
  const char key_chars[] = "ab/";
  const char glob_chars[] = "ab/*?";
  int matched = 0;
  for (int i = 0; i < 20000; i++) {
    std::string key, glob;
    for (size_t n = rng() % 8; n > 0; n--) key.push_back(key_chars[rng() % 3]);
    for (size_t n = 1 + rng() % 6; n > 0; n--) glob.push_back(glob_chars[rng() % 5]);
    CAPTURE(glob, key);
    const bool want = Reference(glob, key);
    REQUIRE(GlobOf(glob).Matches(key) == want);
    matched += want ? 1 : 0;
  }
  CHECK(matched > 500);  // the check saw matches as well as misses
}

}  // namespace
}  // namespace keyva::server
