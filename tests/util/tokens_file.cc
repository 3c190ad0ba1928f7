// Tokens-file helpers for tests; see tokens_file.h.
#include "tests/util/tokens_file.h"

#include <openssl/evp.h>

#include <fstream>
#include <stdexcept>

namespace keyva::testing {

std::string Sha256Hex(const std::string& s) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  if (EVP_Digest(s.data(), s.size(), digest, &len, EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("SHA-256 failed");
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < len; i++) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 15];
  }
  return out;
}

std::string TokenLine(const std::string& name, const std::string& token,
                      const std::string& rights) {
  return name + " " + Sha256Hex(token) + " " + rights + "\n";
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path);
}

}  // namespace keyva::testing
