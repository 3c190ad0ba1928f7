// Range and If-Range for stored values; see byte_range.h.
#include "internal/server/byte_range.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <optional>
#include <utility>

#include "internal/server/header_text.h"
#include "internal/server/http_date.h"

namespace keyva::server {
namespace {

// A whole decimal number (digits only, no sign); nullopt otherwise or on overflow.
std::optional<uint64_t> Digits(std::string_view s) {
  if (s.empty()) return std::nullopt;
  uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

RangeAnswer Unsatisfiable(std::string reason) {
  RangeAnswer a;
  a.kind = RangeAnswer::Kind::kUnsatisfiable;
  a.reason = std::move(reason);
  return a;
}

}  // namespace

RangeAnswer AnswerRange(std::string_view range, uint64_t size) {
  const size_t eq = range.find('=');
  if (eq == std::string_view::npos) return Unsatisfiable("the Range header is not unit=ranges");
  if (AsciiLower(TrimOws(range.substr(0, eq))) != "bytes") return {};  // a unit we do not serve
  std::string_view set = range.substr(eq + 1);
  int specs = 0;
  bool any_satisfiable = false;
  RangeAnswer only;
  while (true) {
    const size_t comma = set.find(',');
    const std::string_view spec = TrimOws(set.substr(0, comma));
    if (!spec.empty()) {  // RFC 9110 §5.6.1: empty list elements are allowed
      specs++;
      const size_t dash = spec.find('-');
      if (dash == std::string_view::npos) {
        return Unsatisfiable("the range '" + std::string(spec) + "' has no '-'");
      }
      const std::string_view a = spec.substr(0, dash);
      const std::string_view b = spec.substr(dash + 1);
      RangeAnswer r;
      r.kind = RangeAnswer::Kind::kPartial;
      if (a.empty()) {  // the last N bytes
        const std::optional<uint64_t> n = Digits(b);
        if (!n) return Unsatisfiable("the range '" + std::string(spec) + "' is not bytes=-N");
        if (*n > 0 && size > 0) {
          any_satisfiable = true;
          r.first = *n >= size ? 0 : size - *n;
          r.last = size - 1;
        }
      } else {
        const std::optional<uint64_t> first = Digits(a);
        const std::optional<uint64_t> last =
            b.empty() ? std::optional<uint64_t>(UINT64_MAX) : Digits(b);
        if (!first || !last) {
          return Unsatisfiable("the range '" + std::string(spec) + "' is not bytes=FIRST-LAST");
        }
        if (*last < *first) {
          return Unsatisfiable("the range '" + std::string(spec) + "' ends before it starts");
        }
        if (*first < size) {
          any_satisfiable = true;
          r.first = *first;
          r.last = std::min(*last, size - 1);
        }
      }
      only = r;
    }
    if (comma == std::string_view::npos) break;
    set.remove_prefix(comma + 1);
  }
  if (specs == 0) return Unsatisfiable("the Range header names no range");
  if (!any_satisfiable) {
    return Unsatisfiable(size == 0 ? "the value is empty: no byte range of it exists"
                                   : "no range starts before the end of the value (" +
                                         std::to_string(size) + " bytes)");
  }
  if (specs > 1) return {};  // several ranges: the whole value
  return only;
}

bool IfRangeHolds(std::string_view if_range, std::string_view etag, int64_t modified_seconds) {
  if_range = TrimOws(if_range);
  if (if_range.starts_with("W/")) return false;  // a weak tag never validates a range
  if (if_range.starts_with("\"")) return if_range == etag;
  int64_t seconds = 0;
  return ParseHttpDate(if_range, &seconds) && seconds == modified_seconds;
}

std::string ContentRange(const RangeAnswer& answer, uint64_t size) {
  if (answer.kind != RangeAnswer::Kind::kPartial) return "bytes */" + std::to_string(size);
  return "bytes " + std::to_string(answer.first) + "-" + std::to_string(answer.last) + "/" +
         std::to_string(size);
}

}  // namespace keyva::server
