// Byte encodings shared by every on-disk format: little-endian fixed-width integers and LEB128
// varints, plus length-prefixed strings. Decoders take a string_view cursor and advance it; they
// return false (never read out of bounds) when the input is too short or malformed.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace keyva {

inline void EncodeFixed32(char* dst, uint32_t v) {
  for (int i = 0; i < 4; i++) dst[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}
inline void EncodeFixed64(char* dst, uint64_t v) {
  for (int i = 0; i < 8; i++) dst[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}
inline uint32_t DecodeFixed32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return uint32_t(u[0]) | (uint32_t(u[1]) << 8) | (uint32_t(u[2]) << 16) | (uint32_t(u[3]) << 24);
}
inline uint64_t DecodeFixed64(const char* p) {
  return uint64_t(DecodeFixed32(p)) | (uint64_t(DecodeFixed32(p + 4)) << 32);
}

void PutFixed32(std::string* dst, uint32_t v);
void PutFixed64(std::string* dst, uint64_t v);
void PutVarint32(std::string* dst, uint32_t v);
void PutVarint64(std::string* dst, uint64_t v);
// varint32 length followed by the bytes.
void PutLengthPrefixed(std::string* dst, std::string_view value);

// Writes a varint64 into dst (at least 10 bytes) and returns the byte after it.
char* EncodeVarint64(char* dst, uint64_t v);
int VarintLength(uint64_t v);

bool GetVarint32(std::string_view* in, uint32_t* v);
bool GetVarint64(std::string_view* in, uint64_t* v);
bool GetLengthPrefixed(std::string_view* in, std::string_view* value);

// Pointer-based varint decoding for hot paths; returns nullptr on malformed input.
const char* GetVarint32Ptr(const char* p, const char* limit, uint32_t* v);
const char* GetVarint64Ptr(const char* p, const char* limit, uint64_t* v);

}  // namespace keyva
