// Entity tags: the ETag of a stored value and the If-Match / If-None-Match conditions.
//
// A value's ETag is strong: the quoted 16-hex-digit ValueFingerprint (value_format.h) of its
// content type, its bytes and its modification time, so any change to either (even rewriting the
// same bytes, which moves the modification time) yields a new tag.
//
// Conditions follow RFC 9110: If-Match uses the strong comparison (a weak W/"..." tag never
// matches), If-None-Match the weak one; "*" matches any existing value. For convenience an
// unquoted token is read as if it were quoted.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "internal/engine/value_format.h"

namespace keyva::server {

// "\"0123456789abcdef\"".
std::string ComputeEtag(const ValueMeta& meta, std::string_view value);

struct EtagCondition {
  struct Tag {
    bool weak = false;
    std::string opaque;  // between the quotes
  };
  bool any = false;  // "*"
  std::vector<Tag> tags;
};

// Parses a header value such as `"a", W/"b"` or `*`. False when malformed.
bool ParseEtagCondition(std::string_view header, EtagCondition* out);

// If-Match semantics: any, or some strong tag equal to etag (a quoted strong tag).
bool MatchesStrong(const EtagCondition& cond, std::string_view etag);
// If-None-Match semantics: any, or some tag (weak or strong) with the same opaque part.
bool MatchesWeak(const EtagCondition& cond, std::string_view etag);

}  // namespace keyva::server
