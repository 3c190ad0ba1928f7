// Bearer-token check for writes (--auth-token).
//
// The comparison takes the same time wherever the tokens differ and whatever their lengths:
// both sides are hashed with SHA-256 and the digests compared with CRYPTO_memcmp.
//
// Thread-safety: pure function.
#pragma once

#include <string_view>

namespace keyva::server {

// True when authorization is "Bearer <token>" (scheme case-insensitive) for exactly this token.
// REQUIRES: token is not empty.
bool BearerTokenMatches(std::string_view authorization, std::string_view token);

}  // namespace keyva::server
