// ETags and If-Match / If-None-Match matching (entity_tag.h)
// and HTTP dates (http_date.h).
#include "internal/server/entity_tag.h"

#include <catch2/catch.hpp>

#include "internal/server/http_date.h"

namespace keyva::server {

TEST_CASE("ComputeEtag is strong, quoted, and changes with type, bytes and time") {
  ValueMeta m{"text/plain", 1000, 0};
  std::string e = ComputeEtag(m, "v");
  CHECK(e.size() == 18);
  CHECK(e.front() == '"');
  CHECK(e.back() == '"');
  CHECK(ComputeEtag(m, "v") == e);
  CHECK(ComputeEtag(m, "w") != e);
  CHECK(ComputeEtag(ValueMeta{"text/html", 1000, 0}, "v") != e);
  CHECK(ComputeEtag(ValueMeta{"text/plain", 1001, 0}, "v") != e);
  // The separator keeps type and bytes apart.
  CHECK(ComputeEtag(ValueMeta{"ab", 1, 0}, "c") != ComputeEtag(ValueMeta{"a", 1, 0}, "bc"));
}

TEST_CASE("ParseEtagCondition reads lists, weak tags and *") {
  EtagCondition c;
  REQUIRE(ParseEtagCondition("*", &c));
  CHECK(c.any);
  REQUIRE(ParseEtagCondition(" \"a\" , W/\"b\",c ", &c));
  CHECK_FALSE(c.any);
  REQUIRE(c.tags.size() == 3);
  CHECK((c.tags[0].opaque == "a" && !c.tags[0].weak));
  CHECK((c.tags[1].opaque == "b" && c.tags[1].weak));
  CHECK(c.tags[2].opaque == "c");
  for (const char* bad : {"", "\"a", "\"a\" \"b\"", "\"a\",", ",", "a b"}) {
    INFO(bad);
    CHECK_FALSE(ParseEtagCondition(bad, &c));
  }
}

TEST_CASE("strong and weak comparison") {
  EtagCondition c;
  REQUIRE(ParseEtagCondition("W/\"x\", \"y\"", &c));
  CHECK_FALSE(MatchesStrong(c, "\"x\""));
  CHECK(MatchesStrong(c, "\"y\""));
  CHECK(MatchesWeak(c, "\"x\""));
  CHECK(MatchesWeak(c, "\"y\""));
  CHECK_FALSE(MatchesWeak(c, "\"z\""));
  REQUIRE(ParseEtagCondition("*", &c));
  CHECK(MatchesStrong(c, "\"anything\""));
}

TEST_CASE("HTTP and ISO dates") {
  CHECK(FormatHttpDate(784111777'000000) == "Sun, 06 Nov 1994 08:49:37 GMT");
  CHECK(FormatIso8601(784111777'123456) == "1994-11-06T08:49:37.123Z");
  CHECK(FormatIso8601(0) == "1970-01-01T00:00:00.000Z");
  int64_t s = 0;
  for (const char* date : {"Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT",
                           "Sun Nov  6 08:49:37 1994"}) {
    INFO(date);
    s = 0;
    CHECK(ParseHttpDate(date, &s));
    CHECK(s == 784111777);
  }
  for (const char* bad : {"", "yesterday", "Sun, 06 Nov 1994 08:49:37 UTC", "Sun, 06 Nov 1994"}) {
    INFO(bad);
    CHECK_FALSE(ParseHttpDate(bad, &s));
  }
}

}  // namespace keyva::server
