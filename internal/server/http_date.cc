// HTTP and ISO 8601 dates; see http_date.h.
#include "internal/server/http_date.h"

#include <ctime>

namespace keyva::server {
namespace {

std::tm ToUtc(int64_t micros) {
  int64_t secs = micros >= 0 ? micros / 1'000'000 : (micros - 999'999) / 1'000'000;
  std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return tm;
}

}  // namespace

std::string FormatHttpDate(int64_t micros) {
  std::tm tm = ToUtc(micros);
  char buf[64];
  size_t n = std::strftime(buf, sizeof(buf), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return std::string(buf, n);
}

bool ParseHttpDate(std::string_view text, int64_t* seconds) {
  const std::string s(text.substr(0, 64));
  // IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT", RFC 850 "Sunday, 06-Nov-94 08:49:37 GMT",
  // asctime "Sun Nov  6 08:49:37 1994". strptime reads names in the C locale keyvad runs in.
  static const char* const kFormats[] = {"%a, %d %b %Y %H:%M:%S GMT", "%A, %d-%b-%y %H:%M:%S GMT",
                                         "%a %b %e %H:%M:%S %Y"};
  for (const char* format : kFormats) {
    std::tm tm{};
    const char* end = strptime(s.c_str(), format, &tm);
    if (end != nullptr && *end == '\0') {
      *seconds = static_cast<int64_t>(timegm(&tm));
      return true;
    }
  }
  return false;
}

std::string FormatIso8601(int64_t micros) {
  std::tm tm = ToUtc(micros);
  char buf[64];
  size_t n = std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  int64_t ms = ((micros % 1'000'000) + 1'000'000) % 1'000'000 / 1000;
  char frac[8];
  std::snprintf(frac, sizeof(frac), ".%03dZ", static_cast<int>(ms));
  return std::string(buf, n) + frac;
}

}  // namespace keyva::server
