#include "internal/engine/util/coding.h"

namespace keyva {

void PutFixed32(std::string* dst, uint32_t v) {
  char buf[4];
  EncodeFixed32(buf, v);
  dst->append(buf, 4);
}

void PutFixed64(std::string* dst, uint64_t v) {
  char buf[8];
  EncodeFixed64(buf, v);
  dst->append(buf, 8);
}

char* EncodeVarint64(char* dst, uint64_t v) {
  auto* p = reinterpret_cast<unsigned char*>(dst);
  while (v >= 0x80) {
    *p++ = static_cast<unsigned char>(v | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<unsigned char>(v);
  return reinterpret_cast<char*>(p);
}

void PutVarint32(std::string* dst, uint32_t v) { PutVarint64(dst, v); }

void PutVarint64(std::string* dst, uint64_t v) {
  char buf[10];
  char* end = EncodeVarint64(buf, v);
  dst->append(buf, end - buf);
}

void PutLengthPrefixed(std::string* dst, std::string_view value) {
  PutVarint32(dst, static_cast<uint32_t>(value.size()));
  dst->append(value.data(), value.size());
}

int VarintLength(uint64_t v) {
  int len = 1;
  while (v >= 0x80) {
    v >>= 7;
    len++;
  }
  return len;
}

const char* GetVarint64Ptr(const char* p, const char* limit, uint64_t* v) {
  uint64_t result = 0;
  for (int shift = 0; shift <= 63 && p < limit; shift += 7) {
    uint64_t byte = static_cast<unsigned char>(*p++);
    if (shift == 63 && byte > 1) return nullptr;  // overflows 64 bits
    result |= (byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) {
      *v = result;
      return p;
    }
  }
  return nullptr;
}

const char* GetVarint32Ptr(const char* p, const char* limit, uint32_t* v) {
  if (p < limit && (static_cast<unsigned char>(*p) & 0x80) == 0) {  // fast path: one byte
    *v = static_cast<unsigned char>(*p);
    return p + 1;
  }
  uint64_t wide;
  const char* q = GetVarint64Ptr(p, limit, &wide);
  if (q == nullptr || wide > 0xffffffffu) return nullptr;
  *v = static_cast<uint32_t>(wide);
  return q;
}

bool GetVarint32(std::string_view* in, uint32_t* v) {
  const char* end = in->data() + in->size();
  const char* q = GetVarint32Ptr(in->data(), end, v);
  if (q == nullptr) return false;
  in->remove_prefix(q - in->data());
  return true;
}

bool GetVarint64(std::string_view* in, uint64_t* v) {
  const char* end = in->data() + in->size();
  const char* q = GetVarint64Ptr(in->data(), end, v);
  if (q == nullptr) return false;
  in->remove_prefix(q - in->data());
  return true;
}

bool GetLengthPrefixed(std::string_view* in, std::string_view* value) {
  uint32_t len;
  if (!GetVarint32(in, &len) || in->size() < len) return false;
  *value = in->substr(0, len);
  in->remove_prefix(len);
  return true;
}

}  // namespace keyva
