// Globs and substring searches over keys; see key_pattern.h.
#include "internal/server/key_pattern.h"

#include <algorithm>

#include "internal/server/header_text.h"

namespace keyva::server {
namespace {

// The length of the UTF-8 sequence starting at key[p] (1 for a stray continuation byte).
size_t SequenceLength(std::string_view key, size_t p) {
  size_t n = 1;
  while (p + n < key.size() && (static_cast<unsigned char>(key[p + n]) & 0xC0) == 0x80) n++;
  return n;
}

}  // namespace

std::optional<KeyPattern> KeyPattern::Glob(std::string_view glob, std::string* error) {
  if (glob.empty()) {
    *error = "the glob is empty";
    return std::nullopt;
  }
  if (glob.size() > kMaxSize) {
    *error = "the glob is " + std::to_string(glob.size()) + " bytes; the limit is " +
             std::to_string(kMaxSize);
    return std::nullopt;
  }
  KeyPattern p;
  size_t wildcards = 0;
  bool literal_so_far = true;
  const auto add_literal = [&p, &literal_so_far](char c) {
    if (p.pieces_.empty() || p.pieces_.back().kind != Piece::Kind::kLiteral) {
      p.pieces_.push_back({Piece::Kind::kLiteral, ""});
    }
    p.pieces_.back().text.push_back(c);
    if (literal_so_far) p.literal_prefix_.push_back(c);
  };
  for (size_t i = 0; i < glob.size(); i++) {
    const char c = glob[i];
    if (c == '\\') {
      if (i + 1 == glob.size()) {
        *error = "the glob ends in a lone '\\' (write '\\\\' for a backslash)";
        return std::nullopt;
      }
      add_literal(glob[++i]);
      continue;
    }
    if (c != '*' && c != '?') {
      add_literal(c);
      continue;
    }
    if (++wildcards > kMaxWildcards) {
      *error = "the glob has more than " + std::to_string(kMaxWildcards) + " wildcards";
      return std::nullopt;
    }
    literal_so_far = false;
    if (c == '?') {
      p.pieces_.push_back({Piece::Kind::kOne, ""});
    } else if (i + 1 < glob.size() && glob[i + 1] == '*') {
      i++;
      p.pieces_.push_back({Piece::Kind::kAny, ""});
    } else {
      p.pieces_.push_back({Piece::Kind::kSegment, ""});
    }
  }
  return p;
}

std::optional<KeyPattern> KeyPattern::Contains(std::string_view text, std::string* error) {
  if (text.empty()) {
    *error = "the text to search for (contains) is empty";
    return std::nullopt;
  }
  if (text.size() > kMaxSize) {
    *error = "the text to search for is " + std::to_string(text.size()) + " bytes; the limit is " +
             std::to_string(kMaxSize);
    return std::nullopt;
  }
  KeyPattern p;
  p.lower_needle_ = AsciiLower(text);
  return p;
}

bool KeyPattern::Matches(std::string_view key) const {
  if (!lower_needle_.empty()) {
    return AsciiLower(key).find(lower_needle_) != std::string::npos;
  }
  // reach[q]: the pieces so far can match key[0, q).
  std::vector<char> reach(key.size() + 1, 0), next(key.size() + 1, 0);
  reach[0] = 1;
  for (const Piece& piece : pieces_) {
    std::fill(next.begin(), next.end(), 0);
    bool any = false;
    switch (piece.kind) {
      case Piece::Kind::kLiteral:
        for (size_t q = 0; q + piece.text.size() <= key.size(); q++) {
          if (reach[q] && key.compare(q, piece.text.size(), piece.text) == 0) {
            next[q + piece.text.size()] = 1;
            any = true;
          }
        }
        break;
      case Piece::Kind::kOne:
        for (size_t q = 0; q < key.size(); q++) {
          if (reach[q] && key[q] != '/') {
            next[q + SequenceLength(key, q)] = 1;
            any = true;
          }
        }
        break;
      case Piece::Kind::kSegment: {
        bool open = false;  // a reached position with no '/' since
        for (size_t q = 0; q <= key.size(); q++) {
          if (q > 0 && key[q - 1] == '/') open = false;
          open = open || reach[q];
          next[q] = open;
          any = any || open;
        }
        break;
      }
      case Piece::Kind::kAny: {
        bool open = false;
        for (size_t q = 0; q <= key.size(); q++) {
          open = open || reach[q];
          next[q] = open;
          any = any || open;
        }
        break;
      }
    }
    if (!any) return false;
    reach.swap(next);
  }
  return reach[key.size()] != 0;
}

}  // namespace keyva::server
