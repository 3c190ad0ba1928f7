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

  Block(const Block&) = delete;
  Block& operator=(const Block&) = delete;

  // Bytes of block contents, and the memory the block holds (its charge in the block cache).
  size_t size() const { return data_.size(); }
  size_t ApproximateMemoryUsage() const { return data_.capacity() + sizeof(Block); }
  uint32_t NumRestarts() const { return num_restarts_; }
  std::string_view contents() const { return data_; }

 private:
  friend class BlockIterator;
  Block(std::string contents, uint32_t restart_offset, uint32_t num_restarts);
  uint32_t RestartPoint(uint32_t index) const;

  std::string data_;
  uint32_t restart_offset_;  // where the restart array starts = end of the entries
  uint32_t num_restarts_;
};

// An iterator over block's entries in order; it keeps the block alive. Errors are sticky: once the
// iterator has met a damaged entry it stays invalid with that Corruption status, whatever is
// called. Seek targets must be internal keys (at least 8 bytes).
std::unique_ptr<Iterator> NewBlockIterator(std::shared_ptr<const Block> block);

}  // namespace keyva
