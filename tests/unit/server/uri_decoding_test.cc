// Percent-decoding, UTF-8 validation and strict query parsing (uri_decoding.h).
#include "internal/server/uri_decoding.h"

#include <catch2/catch.hpp>

namespace keyva::server {

TEST_CASE("PercentDecode decodes escapes and rejects malformed ones") {
  std::string out;
  CHECK((PercentDecode("a%20b%2Fc", false, &out) && out == "a b/c"));
  CHECK((PercentDecode("a+b", false, &out) && out == "a+b"));
  CHECK((PercentDecode("a+b", true, &out) && out == "a b"));
  CHECK((PercentDecode("%e2%9c%93", false, &out) && out == "\xE2\x9C\x93"));
  CHECK((PercentDecode("%00", false, &out) && out == std::string(1, '\0')));
  CHECK((PercentDecode("", false, &out) && out.empty()));
  for (const char* bad : {"%", "%2", "a%zz", "%G0", "%0G", "abc%"}) {
    INFO(bad);
    CHECK_FALSE(PercentDecode(bad, false, &out));
  }
}

TEST_CASE("PercentEncodePath round-trips through PercentDecode") {
  const std::string all = [] {
    std::string s;
    for (int c = 0; c < 256; c++) s.push_back(static_cast<char>(c));
    return s;
  }();
  std::string encoded = PercentEncodePath(all);
  std::string decoded;
  REQUIRE(PercentDecode(encoded, false, &decoded));
  CHECK(decoded == all);
  CHECK(PercentEncodePath("images/logo a+b") == "images/logo%20a%2Bb");
  // Dot segments keep their dots escaped, so resolving the URL does not climb out of the key.
  CHECK(PercentEncodePath("a/../../etc") == "a/%2E%2E/%2E%2E/etc");
  CHECK(PercentEncodePath("./x/.../.y/..") == "%2E/x/.../.y/%2E%2E");
}

TEST_CASE("IsValidUtf8 accepts UTF-8 and rejects the rest") {
  CHECK(IsValidUtf8(""));
  CHECK(IsValidUtf8("plain ascii"));
  CHECK(IsValidUtf8("\xC3\xA9\xE2\x9C\x93\xF0\x9F\x98\x80"));
  for (const char* bad : {"\xFF", "\xC3", "\xC0\x80", "\xE0\x80\x80", "\xED\xA0\x80",
                          "\xF4\x90\x80\x80", "\x80", "\xE2\x9C"}) {
    CHECK_FALSE(IsValidUtf8(bad));
  }
}

TEST_CASE("ParseQuery is strict about names, duplicates and encodings") {
  std::map<std::string, std::string> p;
  std::string err;
  REQUIRE(ParseQuery("prefix=a%2Fb&limit=10", {"prefix", "limit", "after"}, &p, &err));
  CHECK(p == std::map<std::string, std::string>{{"prefix", "a/b"}, {"limit", "10"}});
  REQUIRE(ParseQuery("", {"x"}, &p, &err));
  CHECK(p.empty());
  REQUIRE(ParseQuery("&x=1&", {"x"}, &p, &err));
  CHECK(p["x"] == "1");
  REQUIRE(ParseQuery("x", {"x"}, &p, &err));
  CHECK(p["x"].empty());
  REQUIRE(ParseQuery("x=a+b", {"x"}, &p, &err));
  CHECK(p["x"] == "a b");

  CHECK_FALSE(ParseQuery("y=1", {"x"}, &p, &err));
  CHECK(err.find("'y'") != std::string::npos);
  CHECK_FALSE(ParseQuery("x=1&x=2", {"x"}, &p, &err));
  CHECK(err.find("more than once") != std::string::npos);
  CHECK_FALSE(ParseQuery("x=%zz", {"x"}, &p, &err));
  CHECK_FALSE(ParseQuery("x=%FF", {"x"}, &p, &err));
  CHECK_FALSE(ParseQuery("%zz=1", {"x"}, &p, &err));
  CHECK_FALSE(ParseQuery("x=1", {}, &p, &err));
}

TEST_CASE("SplitTarget splits at the first question mark") {
  std::string_view path, query;
  SplitTarget("/kv/a?b=c?d", &path, &query);
  CHECK(path == "/kv/a");
  CHECK(query == "b=c?d");
  SplitTarget("/kv/a", &path, &query);
  CHECK(path == "/kv/a");
  CHECK(query.empty());
}

}  // namespace keyva::server
