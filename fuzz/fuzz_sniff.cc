// Fuzz target: the MIME sniffer (DetectContentType) on arbitrary bodies. Invariants: no crash or
// sanitizer report; the answer is never empty and is deterministic.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "internal/server/sniff.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  std::string a = keyva::server::DetectContentType(body);
  if (a.empty()) abort();
  if (keyva::server::DetectContentType(body) != a) abort();
  return 0;
}
