// Decoding of request targets: percent-decoding of keys and strict query-string parsing.
//
// Keys are the rest of the path after the route prefix, percent-decoded, slashes allowed; a '+'
// in a path is a plus. In query strings '+' is a space (form encoding), so a literal '+' in a
// parameter value must be sent as %2B. Decoded keys and parameters must be valid UTF-8 (JSON
// listings carry them verbatim).
//
// Thread-safety: pure functions.
#pragma once

#include <map>
#include <set>
#include <string>
#include <string_view>

namespace keyva::server {

// Splits "/path?query" into its two parts (query empty when there is no '?').
void SplitTarget(std::string_view target, std::string_view* path, std::string_view* query);

// Decodes %XX escapes (and '+' as a space when plus_is_space). False on a malformed escape.
bool PercentDecode(std::string_view in, bool plus_is_space, std::string* out);

// Percent-encodes everything except unreserved characters and '/' (for building URLs). The dots
// of a "." or ".." segment are escaped too, so a client resolving the URL keeps every segment.
std::string PercentEncodePath(std::string_view in);

bool IsValidUtf8(std::string_view s);

// Parses "a=1&b=2" strictly: every parameter must be named in `allowed`, appear at most once
// and decode cleanly to UTF-8 (a name without '=' has an empty value; empty segments are
// skipped). On failure returns false and sets *error to a message naming the parameter.
bool ParseQuery(std::string_view query, const std::set<std::string_view>& allowed,
                std::map<std::string, std::string>* params, std::string* error);

}  // namespace keyva::server
