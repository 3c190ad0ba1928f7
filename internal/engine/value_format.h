// The stored form of a value: its metadata followed by its bytes.
//
//   varint32 content-type length, content-type bytes,
//   varint64 modification time (microseconds since the epoch),
//   varint64 expiry time (microseconds since the epoch; 0 = never),
//   the value bytes (to the end).
//
// This is what the memtable, WAL and SSTs carry as the "value" of a kValue entry.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace keyva {

struct ValueMeta {
  std::string content_type;
  int64_t modified_us = 0;
  int64_t expires_us = 0;  // 0: never expires

  bool ExpiredAt(int64_t now_us) const { return expires_us != 0 && expires_us <= now_us; }
};

void EncodeStoredValue(std::string* dst, const ValueMeta& meta, std::string_view value);
// False when stored is malformed.
bool DecodeStoredValue(std::string_view stored, ValueMeta* meta, std::string_view* value);
// Just the expiry, cheaply (0 when none or malformed).
int64_t StoredValueExpiry(std::string_view stored);

// A 64-bit fingerprint of a value as a client sees it: XXH3-64 over the content type, a NUL byte,
// the value bytes and fixed64 modified_us (the expiry is not part of it). Stable across machines
// and releases (the server's ETag is this number in hex, and clients keep ETags).
uint64_t ValueFingerprint(const ValueMeta& meta, std::string_view value);

}  // namespace keyva
