// AnswerRange, IfRangeHolds and ContentRange: RFC 9110 §14 for one range per response.
#include "internal/server/byte_range.h"

#include <catch2/catch.hpp>

#include "internal/server/http_date.h"

namespace keyva::server {
namespace {

using Kind = RangeAnswer::Kind;

std::string Partial(std::string_view range, uint64_t size) {
  const RangeAnswer a = AnswerRange(range, size);
  if (a.kind != Kind::kPartial) return a.kind == Kind::kWhole ? "whole" : "416: " + a.reason;
  return std::to_string(a.first) + "-" + std::to_string(a.last);
}

TEST_CASE("byte ranges: first, middle, last, open-ended and suffix ranges") {
  CHECK(Partial("bytes=0-0", 10) == "0-0");
  CHECK(Partial("bytes=3-5", 10) == "3-5");
  CHECK(Partial("bytes=9-9", 10) == "9-9");
  CHECK(Partial("bytes=4-", 10) == "4-9");
  CHECK(Partial("bytes=5-100", 10) == "5-9");  // a last byte past the end is the end
  CHECK(Partial("bytes=-3", 10) == "7-9");
  CHECK(Partial("bytes=-30", 10) == "0-9");  // a suffix longer than the value: all of it
  CHECK(Partial("BYTES = 1-2", 10) == "1-2");
  CHECK(Partial("bytes= 1-2 ,", 10) == "1-2");  // empty list elements are allowed
  CHECK(ContentRange(AnswerRange("bytes=3-5", 10), 10) == "bytes 3-5/10");
}

TEST_CASE("byte ranges: several ranges or another unit get the whole value") {
  CHECK(Partial("bytes=0-1,5-6", 10) == "whole");
  CHECK(Partial("bytes=0-1,50-60", 10) == "whole");
  CHECK(Partial("items=0-1", 10) == "whole");
}

TEST_CASE("byte ranges: unsatisfiable and invalid ranges are 416 with the reason") {
  CHECK(Partial("bytes=10-", 10).starts_with("416: no range starts before the end"));
  CHECK(Partial("bytes=10-20,30-", 10).starts_with("416"));
  CHECK(Partial("bytes=-0", 10).starts_with("416"));
  CHECK(Partial("bytes=0-0", 0).starts_with("416: the value is empty"));
  CHECK(Partial("bytes=-5", 0).starts_with("416"));
  CHECK(Partial("bytes=5-2", 10).starts_with("416: the range '5-2' ends before it starts"));
  CHECK(Partial("bytes=abc", 10).starts_with("416"));
  CHECK(Partial("bytes=1-x", 10).starts_with("416"));
  CHECK(Partial("bytes=+1-2", 10).starts_with("416"));
  CHECK(Partial("bytes=", 10).starts_with("416: the Range header names no range"));
  CHECK(Partial("0-5", 10).starts_with("416"));
  CHECK(Partial("bytes=99999999999999999999-", 10).starts_with("416"));
  CHECK(ContentRange(AnswerRange("bytes=10-", 10), 10) == "bytes */10");
}

TEST_CASE("If-Range: the current strong ETag or the exact Last-Modified lets the range apply") {
  const std::string etag = "\"0123456789abcdef\"";
  const int64_t modified = 1'700'000'000;
  CHECK(IfRangeHolds(etag, etag, modified));
  CHECK(IfRangeHolds(" " + etag, etag, modified));
  CHECK_FALSE(IfRangeHolds("\"ffffffffffffffff\"", etag, modified));  // a stale tag
  CHECK_FALSE(IfRangeHolds("W/" + etag, etag, modified));             // weak: never
  const std::string date = FormatHttpDate(modified * 1'000'000);
  CHECK(IfRangeHolds(date, etag, modified));
  CHECK_FALSE(IfRangeHolds(FormatHttpDate((modified - 1) * 1'000'000), etag, modified));
  CHECK_FALSE(IfRangeHolds("yesterday", etag, modified));
}

}  // namespace
}  // namespace keyva::server
