// Byte ranges (RFC 9110 §14): what a GET of a stored value with a Range header answers.
//
// keyvad serves one range per response: `bytes=FIRST-LAST`, `bytes=FIRST-` and the suffix
// `bytes=-N` (the last N bytes; all of a shorter value) give 206 with Content-Range. A range set
// of several ranges is answered with the whole value (200), which RFC 9110 allows and every
// client handles, unless none of them is satisfiable. An unknown unit is ignored (200). A range
// that starts at or past the end, a suffix of 0 bytes, any range of an empty value, a range whose
// last byte is before its first, and a Range header that is not a range set at all give 416 with
// `Content-Range: bytes */SIZE`.
//
// If-Range (§13.1.5) makes the Range conditional: it applies only when the If-Range value is the
// value's current strong ETag, exactly, or an HTTP-date equal to its Last-Modified; otherwise the
// whole value is sent (200), so a client resuming a download never splices two versions.
// Only GET honours Range; HEAD and the other methods ignore it.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace keyva::server {

struct RangeAnswer {
  enum class Kind { kWhole, kPartial, kUnsatisfiable } kind = Kind::kWhole;
  uint64_t first = 0;  // kPartial: the bytes [first, last], both inclusive
  uint64_t last = 0;
  std::string reason;  // kUnsatisfiable: why, for the 416 body
};

// The answer to Range header `range` for a value of size bytes.
RangeAnswer AnswerRange(std::string_view range, uint64_t size);

// True when If-Range value if_range lets the Range apply to a value with this ETag (quoted) and
// Last-Modified (whole seconds since the epoch).
bool IfRangeHolds(std::string_view if_range, std::string_view etag, int64_t modified_seconds);

// "bytes FIRST-LAST/SIZE", or "bytes */SIZE" for a 416.
std::string ContentRange(const RangeAnswer& answer, uint64_t size);

}  // namespace keyva::server
