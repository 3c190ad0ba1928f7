// MemTable: the in-memory, sorted home of the newest writes, before they are flushed to an SST.
//
// Entries are internal keys (dbformat.h: user key + sequence + type) with their stored value,
// kept in internal-key order in a SkipList whose nodes and entries live in one Arena. Each entry
// is encoded in the arena as
//     varint32 internal_key_length | internal key | varint32 value_length | value
// (as in LevelDB). Every version of a key is kept; nothing is overwritten in place.
//
// Size accounting: a memtable is "full" by bytes, ApproximateMemoryUsage() (its arena). Because a
// hot key written over and over fills a memtable with versions nobody can read, ShadowedBytes()
// tracks exactly how many encoded bytes belong to entries that have a newer entry for the same
// user key, so the DB can rewrite the memtable in memory (dropping them, when no snapshot needs
// them) instead of flushing a tiny SST.
//
// Thread safety: Add requires external synchronization (one writer). Get, NewIterator, iteration
// and the counters may run on any thread concurrently with that writer and with each other
// (SkipList's lock-free reads). An iterator sees some prefix-consistent state: entries added while
// it runs may or may not appear. The memtable must outlive its iterators.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "internal/engine/db/dbformat.h"
#include "internal/engine/db/skiplist.h"
#include "internal/engine/iterator.h"
#include "internal/engine/util/arena.h"

namespace keyva {

class MemTable {
 public:
  MemTable();
  MemTable(const MemTable&) = delete;
  MemTable& operator=(const MemTable&) = delete;

  // Adds an entry. value is the stored value bytes (empty for deletions).
  // REQUIRES: external synchronization with other Add calls; no entry with the same
  // (user_key, seq) was added before; seq <= kMaxSequenceNumber; user_key and value shorter than
  // 4 GiB (dbformat.h's config limits are far below).
  void Add(SequenceNumber seq, ValueType type, std::string_view user_key, std::string_view value);

  // Looks up the newest entry for user_key with sequence <= snapshot. Returns false if there is
  // none. On true sets *type and *seq, and for kValue copies the value into *value (left untouched
  // for kDeletion). value and seq may be nullptr when the caller does not want them.
  bool Get(std::string_view user_key, SequenceNumber snapshot, ValueType* type, std::string* value,
           SequenceNumber* seq) const;

  // An iterator over every entry in internal-key order: key() is the internal key, value() the
  // stored value; status() is always OK. Seek takes an internal key (REQUIRES: >= 8 bytes).
  // The caller keeps the MemTable alive while the iterator lives.
  std::unique_ptr<Iterator> NewIterator() const;

  // Bytes of memory the memtable holds: its arena's blocks (entries and skiplist nodes) plus their
  // bookkeeping. This is what "the memtable is full" is measured against.
  size_t ApproximateMemoryUsage() const;

  // Encoded bytes (the arena encoding above, without skiplist node overhead) of the entries that
  // have a newer entry (higher sequence) for the same user key. Exact for any insertion order.
  size_t ShadowedBytes() const { return shadowed_bytes_.load(std::memory_order_relaxed); }
  // How many entries ShadowedBytes counts.
  uint64_t NumShadowedEntries() const { return shadowed_entries_.load(std::memory_order_relaxed); }

  // Entries added so far (every version and every deletion counts).
  uint64_t NumEntries() const { return num_entries_.load(std::memory_order_relaxed); }

 private:
  // Orders arena entries (pointers to their encoding) by their internal keys.
  struct KeyComparator {
    int operator()(const char* a, const char* b) const;
  };
  using Table = SkipList<const char*, KeyComparator>;

  Arena arena_;
  Table table_;
  // Written only by the writer; relaxed atomics so other threads may read them.
  std::atomic<uint64_t> num_entries_{0};
  std::atomic<size_t> shadowed_bytes_{0};
  std::atomic<uint64_t> shadowed_entries_{0};
};

}  // namespace keyva
