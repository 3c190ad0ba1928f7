// Constant-time bearer token check; see bearer_auth.h.
#include "internal/server/bearer_auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <array>
#include <cctype>

namespace keyva::server {
namespace {

std::array<unsigned char, EVP_MAX_MD_SIZE> Digest(std::string_view data, unsigned* len) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
  if (EVP_Digest(data.data(), data.size(), out.data(), len, EVP_sha256(), nullptr) != 1) *len = 0;
  return out;
}

}  // namespace

bool BearerTokenMatches(std::string_view authorization, std::string_view token) {
  constexpr std::string_view kScheme = "bearer ";
  if (authorization.size() < kScheme.size()) return false;
  for (size_t i = 0; i < kScheme.size(); i++) {
    if (std::tolower(static_cast<unsigned char>(authorization[i])) != kScheme[i]) return false;
  }
  std::string_view given = authorization.substr(kScheme.size());
  while (!given.empty() && given.front() == ' ') given.remove_prefix(1);
  while (!given.empty() && given.back() == ' ') given.remove_suffix(1);
  unsigned given_len = 0, want_len = 0;
  auto a = Digest(given, &given_len);
  auto b = Digest(token, &want_len);
  if (given_len == 0 || given_len != want_len) return false;
  return CRYPTO_memcmp(a.data(), b.data(), given_len) == 0;
}

}  // namespace keyva::server
