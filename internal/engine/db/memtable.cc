#include "internal/engine/db/memtable.h"

#include <cassert>
#include <cstring>

#include "internal/engine/util/coding.h"

namespace keyva {

namespace {

// Decodes a varint32 from arena memory this file wrote itself (always well formed).
inline const char* DecodeTrustedVarint32(const char* p, uint32_t* v) {
  uint32_t result = 0;
  for (uint32_t shift = 0;; shift += 7) {
    uint32_t byte = static_cast<unsigned char>(*p++);
    result |= (byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) break;
  }
  *v = result;
  return p;
}

// The length-prefixed string starting at p.
inline std::string_view GetLengthPrefixed(const char* p) {
  uint32_t len;
  p = DecodeTrustedVarint32(p, &len);
  return std::string_view(p, len);
}

struct DecodedEntry {
  std::string_view internal_key;
  std::string_view value;
  size_t encoded_size;  // bytes of the whole encoding in the arena
};

inline DecodedEntry DecodeEntry(const char* entry) {
  DecodedEntry d;
  d.internal_key = GetLengthPrefixed(entry);
  const char* p = d.internal_key.data() + d.internal_key.size();
  uint32_t value_len;
  p = DecodeTrustedVarint32(p, &value_len);
  d.value = std::string_view(p, value_len);
  d.encoded_size = static_cast<size_t>(p + value_len - entry);
  return d;
}

// Writes varint32(len) + data at dst and returns the byte after it.
inline char* EncodeLengthPrefixed(char* dst, std::string_view data) {
  dst = EncodeVarint64(dst, data.size());
  if (!data.empty()) std::memcpy(dst, data.data(), data.size());  // data() may be null when empty
  return dst + data.size();
}

// The skiplist key for a lookup: varint32(length) + internal key, built on the stack when short.
class LookupKey {
 public:
  LookupKey(std::string_view user_key, SequenceNumber snapshot) {
    size_t ikey_len = user_key.size() + 8;
    size_t needed = VarintLength(ikey_len) + ikey_len;
    char* dst = space_;
    if (needed > sizeof(space_)) {
      heap_.reset(new char[needed]);
      dst = heap_.get();
    }
    start_ = dst;
    dst = EncodeVarint64(dst, ikey_len);
    if (!user_key.empty()) std::memcpy(dst, user_key.data(), user_key.size());
    EncodeFixed64(dst + user_key.size(), PackSequenceAndType(snapshot, kValueTypeForSeek));
  }
  const char* entry() const { return start_; }

 private:
  char space_[200];
  std::unique_ptr<char[]> heap_;
  const char* start_;
};

// Table is MemTable's private skiplist type (a template parameter so this file can name it).
template <typename Table>
class MemTableIterator final : public Iterator {
 public:
  explicit MemTableIterator(const Table* table) : iter_(table) {}

  bool Valid() const override { return iter_.Valid(); }
  void SeekToFirst() override { iter_.SeekToFirst(); }
  void Seek(std::string_view target) override {
    assert(target.size() >= 8);
    seek_key_.resize(VarintLength(target.size()) + target.size());
    EncodeLengthPrefixed(seek_key_.data(), target);
    iter_.Seek(seek_key_.data());
  }
  void Next() override { iter_.Next(); }
  std::string_view key() const override { return GetLengthPrefixed(iter_.key()); }
  std::string_view value() const override { return DecodeEntry(iter_.key()).value; }
  Status status() const override { return Status::OK(); }

 private:
  typename Table::Iterator iter_;
  std::string seek_key_;
};

}  // namespace

int MemTable::KeyComparator::operator()(const char* a, const char* b) const {
  return CompareInternalKeys(GetLengthPrefixed(a), GetLengthPrefixed(b));
}

MemTable::MemTable() : table_(KeyComparator(), &arena_) {}

void MemTable::Add(SequenceNumber seq, ValueType type, std::string_view user_key,
                   std::string_view value) {
  assert(seq <= kMaxSequenceNumber);
  assert(user_key.size() + 8 <= 0xffffffffu && value.size() <= 0xffffffffu);
  const size_t ikey_len = user_key.size() + 8;
  const size_t encoded_len =
      VarintLength(ikey_len) + ikey_len + VarintLength(value.size()) + value.size();
  char* entry = arena_.Allocate(encoded_len);
  char* p = EncodeVarint64(entry, ikey_len);
  if (!user_key.empty()) std::memcpy(p, user_key.data(), user_key.size());
  p += user_key.size();
  EncodeFixed64(p, PackSequenceAndType(seq, type));
  p += 8;
  p = EncodeLengthPrefixed(p, value);
  assert(p == entry + encoded_len);

  Table::Neighbors n = table_.Insert(entry);

  // In internal order a user key's versions are adjacent, newest first, and every version but the
  // newest is shadowed. If the entry before the new one has the same user key, it is newer: the
  // new entry is shadowed. Otherwise the new entry is the newest, and the entry after it (the
  // previous newest, if it has the same user key) becomes shadowed.
  if (n.before != nullptr && ExtractUserKey(GetLengthPrefixed(*n.before)) == user_key) {
    shadowed_bytes_.store(ShadowedBytes() + encoded_len, std::memory_order_relaxed);
    shadowed_entries_.store(NumShadowedEntries() + 1, std::memory_order_relaxed);
  } else if (n.after != nullptr) {
    DecodedEntry next = DecodeEntry(*n.after);
    if (ExtractUserKey(next.internal_key) == user_key) {
      shadowed_bytes_.store(ShadowedBytes() + next.encoded_size, std::memory_order_relaxed);
      shadowed_entries_.store(NumShadowedEntries() + 1, std::memory_order_relaxed);
    }
  }
  num_entries_.store(NumEntries() + 1, std::memory_order_relaxed);
}

bool MemTable::Get(std::string_view user_key, SequenceNumber snapshot, ValueType* type,
                   std::string* value, SequenceNumber* seq) const {
  if (snapshot > kMaxSequenceNumber) snapshot = kMaxSequenceNumber;
  LookupKey lookup(user_key, snapshot);
  Table::Iterator iter(&table_);
  // Lands on the first entry with (user key, sequence) >= (user_key, snapshot) in internal order:
  // the newest version of user_key visible at snapshot, if user_key has one.
  iter.Seek(lookup.entry());
  if (!iter.Valid()) return false;
  DecodedEntry e = DecodeEntry(iter.key());
  if (ExtractUserKey(e.internal_key) != user_key) return false;
  uint64_t trailer = ExtractTrailer(e.internal_key);
  *type = static_cast<ValueType>(trailer & 0xff);
  if (seq != nullptr) *seq = trailer >> 8;
  if (*type == ValueType::kValue && value != nullptr) value->assign(e.value.data(), e.value.size());
  return true;
}

std::unique_ptr<Iterator> MemTable::NewIterator() const {
  return std::make_unique<MemTableIterator<Table>>(&table_);
}

size_t MemTable::ApproximateMemoryUsage() const { return arena_.MemoryUsage(); }

}  // namespace keyva
