// Block: one parsed, uncompressed SST block (data or index), and an iterator over it.
//
// The layout is the one BlockBuilder writes (block_builder.h, docs/formats_sst.md). Keys in every
// SST block are internal keys (dbformat.h) and the iterator orders them with CompareInternalKeys.
//
// Blocks come from disk, so parsing treats them as hostile: Block::Create checks the restart array
// (count, first offset 0, strictly increasing, inside the block), and the iterator checks every
// entry as it decodes it (varints inside the block, shared <= previous key length, key and value
// inside the entry area, keys at least 8 bytes, restart entries with shared == 0). Any violation
// makes the iterator invalid with a Corruption status; nothing is ever read outside the block.
// The checksum in the block trailer (sst_format.h) catches damage before parsing; these checks keep
// a wrong-but-checksummed or fuzzed block from crashing the process.
//
// Thread safety: a Block is immutable after Create and may be shared by threads (it is handed out
// as shared_ptr<const Block>, e.g. by the block cache). Each iterator is used by one thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "internal/engine/iterator.h"
#include "internal/engine/status.h"

namespace keyva {

class Block {
 public:
  // Takes the uncompressed block contents. On success *block holds the parsed block; on a
  // malformed restart array returns Corruption and leaves *block untouched.
  static Status Create(std::string contents, std::shared_ptr<const Block>* block);
  // The same for contents held in a heap buffer of size bytes (the read path: no zero-fill, no
  // copy). Takes ownership of data.
  static Status Create(std::unique_ptr<char[]> data, size_t size,
                       std::shared_ptr<const Block>* block);

  Block(const Block&) = delete;
  Block& operator=(const Block&) = delete;

  // Bytes of block contents, and the memory the block holds (its charge in the block cache).
  size_t size() const { return size_; }
  size_t ApproximateMemoryUsage() const {
    return (heap_ ? size_ : owned_.capacity()) + sizeof(Block);
  }
  uint32_t NumRestarts() const { return num_restarts_; }
  std::string_view contents() const { return std::string_view(data_, size_); }

 private:
  friend class BlockIterator;
  Block(std::string owned, std::unique_ptr<char[]> heap, size_t size, uint32_t restart_offset,
        uint32_t num_restarts);
  // Checks the restart array of size bytes at data; fills the restart offset and count.
  static Status Parse(const char* data, size_t size, uint32_t* restart_offset,
                      uint32_t* num_restarts);
  uint32_t RestartPoint(uint32_t index) const;

  std::string owned_;             // the contents, when given as a string
  std::unique_ptr<char[]> heap_;  // or as a heap buffer
  const char* data_;
  size_t size_;
  uint32_t restart_offset_;  // where the restart array starts = end of the entries
  uint32_t num_restarts_;
};

// An iterator over a block's entries in order. Errors are sticky: once the iterator has met a
// damaged entry it stays invalid with that Corruption status, whatever is called. Seek targets
// must be internal keys (at least 8 bytes). Constructed directly (e.g. on the stack, for a point
// lookup) it does not own the block, which must outlive it; NewBlockIterator's iterators keep
// their block alive.
class BlockIterator final : public Iterator {
 public:
  explicit BlockIterator(const Block* block, std::shared_ptr<const Block> owner = nullptr);

  bool Valid() const override { return valid_; }
  std::string_view key() const override { return key_; }
  std::string_view value() const override { return value_; }
  Status status() const override { return status_; }
  void SeekToFirst() override;
  void Next() override;
  void Seek(std::string_view target) override;

 private:
  void SeekToRestart(uint32_t index);
  void Corrupt(const char* what);
  const char* DecodeEntry(const char* p, uint32_t* shared, uint32_t* non_shared,
                          uint32_t* value_len) const;
  bool RestartKey(uint32_t index, std::string_view* key);
  bool ParseNextEntry();

  std::shared_ptr<const Block> owner_;
  const Block* block_;
  const char* data_;
  uint32_t limit_;  // end of the entries (start of the restart array)
  uint32_t next_;   // offset of the entry after the current one (limit_ at the end)
  bool valid_ = false;
  std::string key_;
  std::string_view value_;
  Status status_;
};

// A heap-allocated BlockIterator that keeps block alive.
std::unique_ptr<Iterator> NewBlockIterator(std::shared_ptr<const Block> block);

}  // namespace keyva
