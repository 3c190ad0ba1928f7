// KeyPattern: which keys a search of the listing (GET /kv/?glob= or ?contains=) keeps — the
// server side of the web page's "Go to key".
//
// - A glob matches the whole key: `*` any run of characters within one path segment (no '/'),
//   `**` any run at all ('/' included), `?` one character (a whole UTF-8 sequence) other than '/',
//   `\` makes the next character literal. Everything else is itself, case-sensitively.
//   "config/*/feature*" matches "config/app/feature-flags.json" but not
//   "config/app/v2/feature-x"; "**.json" every key ending in ".json".
//   The literal text before the first wildcard is the glob's prefix: a listing scans only the keys
//   starting with it.
// - contains: the key holds the text, ASCII letters compared without case ("FLAGS" finds
//   "feature-flags.json").
//
// Matching costs O(key length × pattern pieces) and never backtracks exponentially: a set of the
// key positions each prefix of the pattern can reach is carried through the pieces.
//
// Thread-safety: immutable after construction; Matches may be called from any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace keyva::server {

class KeyPattern {
 public:
  // Longest pattern text accepted (bytes), and most wildcards in a glob.
  static constexpr size_t kMaxSize = 256;
  static constexpr size_t kMaxWildcards = 32;

  // nullopt and *error (what is wrong, for a 400) when glob is empty, too long, has too many
  // wildcards or ends in a lone '\'.
  static std::optional<KeyPattern> Glob(std::string_view glob, std::string* error);
  // nullopt and *error when text is empty or too long.
  static std::optional<KeyPattern> Contains(std::string_view text, std::string* error);

  bool Matches(std::string_view key) const;

  // Every key the pattern matches starts with this ("" for contains).
  const std::string& literal_prefix() const { return literal_prefix_; }

 private:
  struct Piece {
    enum class Kind { kLiteral, kOne, kSegment, kAny } kind;  // text, ?, *, **
    std::string text;                                         // kLiteral
  };
  KeyPattern() = default;

  std::vector<Piece> pieces_;   // a glob
  std::string lower_needle_;    // contains, lower-cased; empty for a glob
  std::string literal_prefix_;  // a glob's text before its first wildcard
};

}  // namespace keyva::server
