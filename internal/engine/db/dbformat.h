// Internal keys, their ordering, and the engine's tuning constants.
//
// An internal key is the user key followed by an 8-byte little-endian trailer packing
// (sequence << 8) | type. Internal keys sort by user key ascending (bytewise), then by sequence
// descending, so the newest version of a key comes first. Every memtable, WAL replay, SST and
// merge works on internal keys; only the DB iterator and Get speak user keys.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "internal/engine/util/coding.h"

namespace keyva {

using SequenceNumber = uint64_t;
// Sequence numbers use 56 bits; the low byte of the trailer is the type.
constexpr SequenceNumber kMaxSequenceNumber = (uint64_t{1} << 56) - 1;

enum class ValueType : uint8_t {
  kDeletion = 0,  // a tombstone
  kValue = 1,
};
// Seeking for (user_key, seq) uses the highest type so the seek lands on that version.
constexpr ValueType kValueTypeForSeek = ValueType::kValue;

namespace config {
constexpr int kNumLevels = 7;
// L0 file count that triggers a compaction into L1.
constexpr int kL0CompactionTrigger = 4;
// L0 file count at which writes are slowed, and at which they wait (RocksDB's defaults: with bloom
// filters a point read passes an L0 file cheaply, and bursts of writes are not throttled to the
// speed of the compaction running right then).
constexpr int kL0SlowdownTrigger = 20;
constexpr int kL0StopTrigger = 36;
// Frozen (immutable) memtables waiting for flush before writes wait.
constexpr int kMaxFrozenMemtables = 2;
// Target size of each level from L1 on: L1 = kL1MaxBytes, then x kLevelSizeMultiplier.
constexpr uint64_t kL1MaxBytes = 10ull << 20;
constexpr int kLevelSizeMultiplier = 10;
// (The limits on key and value sizes are public: kMaxKeySize, kMaxValueSize in options.h.)
}  // namespace config

inline uint64_t PackSequenceAndType(SequenceNumber seq, ValueType t) {
  return (seq << 8) | static_cast<uint8_t>(t);
}

inline void AppendInternalKey(std::string* dst, std::string_view user_key, SequenceNumber seq,
                              ValueType t) {
  dst->append(user_key.data(), user_key.size());
  PutFixed64(dst, PackSequenceAndType(seq, t));
}

inline std::string MakeInternalKey(std::string_view user_key, SequenceNumber seq, ValueType t) {
  std::string k;
  k.reserve(user_key.size() + 8);
  AppendInternalKey(&k, user_key, seq, t);
  return k;
}

// REQUIRES: internal_key.size() >= 8 (checked by ParseInternalKey for untrusted input).
inline std::string_view ExtractUserKey(std::string_view internal_key) {
  return internal_key.substr(0, internal_key.size() - 8);
}
inline uint64_t ExtractTrailer(std::string_view internal_key) {
  return DecodeFixed64(internal_key.data() + internal_key.size() - 8);
}

struct ParsedInternalKey {
  std::string_view user_key;
  SequenceNumber sequence = 0;
  ValueType type = ValueType::kValue;
};

// False when the key is too short or its type byte is unknown (corrupt input).
inline bool ParseInternalKey(std::string_view internal_key, ParsedInternalKey* result) {
  if (internal_key.size() < 8) return false;
  uint64_t trailer = ExtractTrailer(internal_key);
  uint8_t t = trailer & 0xff;
  if (t > static_cast<uint8_t>(ValueType::kValue)) return false;
  result->user_key = ExtractUserKey(internal_key);
  result->sequence = trailer >> 8;
  result->type = static_cast<ValueType>(t);
  return true;
}

// Three-way comparison of internal keys: user key ascending, then sequence/type descending.
inline int CompareInternalKeys(std::string_view a, std::string_view b) {
  int r = ExtractUserKey(a).compare(ExtractUserKey(b));
  if (r != 0) return r < 0 ? -1 : 1;
  uint64_t ta = ExtractTrailer(a), tb = ExtractTrailer(b);
  if (ta > tb) return -1;
  if (ta < tb) return 1;
  return 0;
}

struct InternalKeyLess {
  bool operator()(std::string_view a, std::string_view b) const {
    return CompareInternalKeys(a, b) < 0;
  }
};

}  // namespace keyva
