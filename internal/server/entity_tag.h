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
// A content-coded representation of a value (content_encoding.h) has the value's tag with
// "-CODING" inside the quotes ("0123456789abcdef-gzip"). Both comparisons ignore that suffix
// on either side: the tag a client got for the gzip representation matches the stored value
// (a conditional write with it works, and a 304 answers it), and nothing else does.
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

// The tag of value's representation in a content coding: "\"0123456789abcdef-gzip\"" for
// etag "\"0123456789abcdef\"" and coding "gzip".
std::string EncodedEtag(std::string_view etag, std::string_view coding);
// The coding suffix of an opaque tag ("gzip" for "0123456789abcdef-gzip"); empty when none.
std::string_view EtagCoding(std::string_view opaque);

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
