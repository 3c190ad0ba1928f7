// Content-MD5 checks; see content_md5.h.
#include "internal/server/content_md5.h"

#include <openssl/evp.h>

#include <stdexcept>

#include "internal/server/base64.h"

namespace keyva::server {
namespace {

constexpr size_t kMd5Size = 16;

// The 16 bytes of body's MD5 digest.
std::string Md5(std::string_view body) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  if (EVP_Digest(body.data(), body.size(), digest, &len, EVP_md5(), nullptr) != 1 ||
      len != kMd5Size) {
    throw std::runtime_error("OpenSSL's MD5 failed (EVP_Digest)");
  }
  return std::string(reinterpret_cast<const char*>(digest), len);
}

}  // namespace

std::string ContentMd5(std::string_view body) {
  const std::string digest = Md5(body);
  return EncodeBase64(reinterpret_cast<const unsigned char*>(digest.data()), digest.size());
}

bool ContentMd5Matches(std::string_view header, std::string_view body, std::string* error) {
  while (!header.empty() && (header.back() == ' ' || header.back() == '\t')) {
    header.remove_suffix(1);
  }
  std::optional<std::string> digest = DecodeBase64(header);
  if (!digest || digest->size() != kMd5Size) {
    *error = "malformed Content-MD5: expected the base64 of a 16-byte MD5 digest ";
    return false;
  }
  if (*digest != Md5(body)) {
    *error = "Content-MD5 does not match the body (its MD5 is " + ContentMd5(body) +
             "): the body was damaged or the header is wrong; nothing stored";
    return false;
  }
  return true;
}

}  // namespace keyva::server
