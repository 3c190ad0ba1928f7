// Content-MD5 (content_md5.h) and the base64 it is written in (base64.h).
#include "internal/server/content_md5.h"

#include <catch2/catch.hpp>

#include "internal/server/base64.h"

namespace keyva::server {
namespace {

TEST_CASE("ContentMd5 is the base64 of the MD5 digest (RFC 1321 test vectors)") {
  CHECK(ContentMd5("") == "1B2M2Y8AsgTpgAmY7PhCfg==");     // d41d8cd98f00b204e9800998ecf8427e
  CHECK(ContentMd5("abc") == "kAFQmDzST7DWlj99KOF/cg==");  // 900150983cd24fb0d6963f7d28e17f72
}

TEST_CASE("ContentMd5Matches takes the right digest and names what is wrong otherwise") {
  std::string error;
  CHECK(ContentMd5Matches("kAFQmDzST7DWlj99KOF/cg==", "abc", &error));
  CHECK(ContentMd5Matches("kAFQmDzST7DWlj99KOF/cg", "abc", &error));  // padding optional
  CHECK_FALSE(ContentMd5Matches("kAFQmDzST7DWlj99KOF/cg==", "abd", &error));
  CHECK(error.find("does not match") != std::string::npos);
  for (const char* bad :
       {"", "not base64!", "kAFQmDzST7DWlj99KOF", "900150983cd24fb0d6963f7d28e17f72"}) {
    INFO(bad);
    error.clear();
    CHECK_FALSE(ContentMd5Matches(bad, "abc", &error));
    CHECK(error.find("malformed") != std::string::npos);
  }
}

TEST_CASE("Base64 encodes with and without padding and decodes the standard alphabet") {
  const unsigned char bytes[] = {0xfb, 0xff, 0x00, 'a'};
  CHECK(EncodeBase64(bytes, 4) == "+/8AYQ==");
  CHECK(EncodeBase64Url(bytes, 4) == "-_8AYQ");
  CHECK(DecodeBase64("+/8AYQ==") == std::string("\xfb\xff\x00"
                                                "a",
                                                4));
  CHECK_FALSE(DecodeBase64("-_8AYQ"));
  CHECK_FALSE(DecodeBase64("A"));
}

}  // namespace
}  // namespace keyva::server
