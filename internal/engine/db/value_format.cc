// The stored-value encoding and the value fingerprint; see value_format.h.
#include "internal/engine/value_format.h"

#include "internal/engine/util/coding.h"
#include "internal/engine/util/hash.h"

namespace keyva {

void EncodeStoredValue(std::string* dst, const ValueMeta& meta, std::string_view value) {
  PutLengthPrefixed(dst, meta.content_type);
  PutVarint64(dst, static_cast<uint64_t>(meta.modified_us));
  PutVarint64(dst, static_cast<uint64_t>(meta.expires_us));
  dst->append(value.data(), value.size());
}

bool DecodeStoredValue(std::string_view stored, ValueMeta* meta, std::string_view* value) {
  std::string_view ct;
  uint64_t modified, expires;
  if (!GetLengthPrefixed(&stored, &ct) || !GetVarint64(&stored, &modified) ||
      !GetVarint64(&stored, &expires)) {
    return false;
  }
  meta->content_type.assign(ct.data(), ct.size());
  meta->modified_us = static_cast<int64_t>(modified);
  meta->expires_us = static_cast<int64_t>(expires);
  *value = stored;
  return true;
}

int64_t StoredValueExpiry(std::string_view stored) {
  std::string_view ct;
  uint64_t modified, expires;
  if (!GetLengthPrefixed(&stored, &ct) || !GetVarint64(&stored, &modified) ||
      !GetVarint64(&stored, &expires)) {
    return 0;
  }
  return static_cast<int64_t>(expires);
}

uint64_t ValueFingerprint(const ValueMeta& meta, std::string_view value) {
  // content type, a NUL separator (content types never contain one), the bytes, the time.
  std::string buf;
  buf.reserve(meta.content_type.size() + 1 + value.size() + 8);
  buf.append(meta.content_type);
  buf.push_back('\0');
  buf.append(value.data(), value.size());
  PutFixed64(&buf, static_cast<uint64_t>(meta.modified_us));
  return Hash64(buf);
}

}  // namespace keyva
