// Content-MD5 (RFC 1864): a request body's integrity check, as Terraform's http state backend
// sends it with every body — the base64 of the MD5 digest of the body's bytes.
//
// A request that carries the header (on any route) is answered 400 when the header is not the
// base64 of 16 bytes, or is and differs from the body's digest; the request is then not handled,
// so nothing is stored. Without the header nothing is checked.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

namespace keyva::server {

inline constexpr std::string_view kContentMd5Header = "Content-MD5";

// The base64 (standard alphabet, padded) of the MD5 digest of body.
std::string ContentMd5(std::string_view body);

// True when header is the base64 of body's MD5 digest; false and *error (what is wrong, in plain
// words) otherwise.
bool ContentMd5Matches(std::string_view header, std::string_view body, std::string* error);

}  // namespace keyva::server
