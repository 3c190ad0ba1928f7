// Header text: the two operations every parser of an HTTP header value needs — trimming the
// optional whitespace around an item (RFC 9110 §5.6.3: OWS is spaces and tabs) and ASCII
// lower-casing of case-insensitive tokens (codings, origins' schemes and hosts, methods).
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

namespace keyva::server {

// s without the spaces and tabs at either end.
inline std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// s with A-Z made a-z (nothing else changes: no locale).
inline std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace keyva::server
