// Formatting of times for HTTP headers and JSON.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace keyva::server {

// RFC 9110 IMF-fixdate of a time in microseconds since the epoch: "Sun, 06 Nov 1994 08:49:37 GMT".
std::string FormatHttpDate(int64_t micros);

// Parses an HTTP-date (RFC 9110 §5.6.7): IMF-fixdate, and the obsolete RFC 850 and asctime forms
// recipients must accept. True with *seconds since the epoch; false when text is none of them.
bool ParseHttpDate(std::string_view text, int64_t* seconds);

// RFC 3339 UTC with milliseconds: "1994-11-06T08:49:37.123Z".
std::string FormatIso8601(int64_t micros);

}  // namespace keyva::server
