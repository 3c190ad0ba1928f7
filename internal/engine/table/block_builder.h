// BlockBuilder: builds one SST block (data or index) of sorted key/value entries.
//
// Block layout (see docs/formats_sst.md):
//   entry*: varint32 shared | varint32 non_shared | varint32 value_len |
//           key[shared..] (non_shared bytes) | value (value_len bytes)
//   restarts: fixed32 offset of each restart entry, in order (the first is always 0)
//   fixed32 number of restarts (>= 1)
// `shared` is the number of leading bytes the key has in common with the previous entry's key; it
// is 0 at every restart point, one every restart_interval entries, so a reader can binary-search
// the restart array and decode forward from any restart.
//
// Thread safety: a BlockBuilder is used by one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace keyva {

class BlockBuilder {
 public:
  // REQUIRES: restart_interval >= 1 (smaller values are treated as 1).
  explicit BlockBuilder(int restart_interval);

  BlockBuilder(const BlockBuilder&) = delete;
  BlockBuilder& operator=(const BlockBuilder&) = delete;

  // Starts a new, empty block.
  void Reset();

  // REQUIRES: Finish() not called since the last Reset(); key sorts after every key added so far
  // (in the order the block's reader uses: internal-key order for SST blocks).
  // The finished block must stay below 4 GiB (restart offsets are 32-bit).
  void Add(std::string_view key, std::string_view value);

  // Appends the restart array and returns the whole block. The view stays valid until Reset() or
  // the builder is destroyed.
  std::string_view Finish();

  // The size of the block if Finish() were called now.
  size_t CurrentSizeEstimate() const;
  bool empty() const { return buffer_.empty(); }
  size_t NumEntries() const { return num_entries_; }
  std::string_view last_key() const { return last_key_; }

 private:
  int restart_interval_;
  std::string buffer_;
  std::vector<uint32_t> restarts_;
  int counter_ = 0;  // entries since the last restart
  size_t num_entries_ = 0;
  bool finished_ = false;
  std::string last_key_;
};

}  // namespace keyva
