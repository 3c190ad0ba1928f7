// Base64 (RFC 4648): the standard alphabet (Basic auth, Content-MD5) and the URL-safe one
// without padding (tokens keyvad makes).
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace keyva::server {

// Standard base64 (with or without padding); nullopt when malformed.
std::optional<std::string> DecodeBase64(std::string_view in);

// Standard base64 with '=' padding.
std::string EncodeBase64(const unsigned char* data, size_t n);

// base64url without padding.
std::string EncodeBase64Url(const unsigned char* data, size_t n);

}  // namespace keyva::server
