// Arena: a bump allocator whose memory is freed all at once, when the arena is destroyed.
//
// The memtable allocates every entry and every skiplist node here, so the memory a memtable
// holds is exactly the arena's blocks and "is the memtable full" is one number (MemoryUsage()).
// Small allocations are carved from 4 KiB blocks; an allocation larger than a quarter block gets a
// block of its own, so at most a quarter of a block is wasted at a block's end.
//
// Thread safety: Allocate and AllocateAligned need external synchronization (one writer).
// MemoryUsage may be called from any thread at any time. Memory handed out stays valid, and never
// moves, until the arena is destroyed.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <vector>

namespace keyva {

class Arena {
 public:
  static constexpr size_t kBlockSize = 4096;

  Arena();
  ~Arena();
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;

  // Returns bytes of uninitialized memory with no alignment guarantee.
  // REQUIRES: bytes > 0.
  char* Allocate(size_t bytes);
  // Like Allocate, but the result is aligned to kAlign (8 bytes, and at least alignof(void*)):
  // fit for pointers, atomics of pointers and 8-byte integers.
  char* AllocateAligned(size_t bytes);

  // Bytes obtained from the system: every block plus the bookkeeping of the block list.
  size_t MemoryUsage() const { return memory_usage_.load(std::memory_order_relaxed); }

  static constexpr size_t kAlign = alignof(void*) > 8 ? alignof(void*) : 8;

 private:
  char* AllocateFallback(size_t bytes);
  char* AllocateNewBlock(size_t block_bytes);

  // The unused tail of the current block: [alloc_ptr_, alloc_ptr_ + alloc_bytes_remaining_).
  char* alloc_ptr_ = nullptr;
  size_t alloc_bytes_remaining_ = 0;
  std::vector<std::unique_ptr<char[]>> blocks_;
  std::atomic<size_t> memory_usage_{0};
};

inline char* Arena::Allocate(size_t bytes) {
  if (bytes <= alloc_bytes_remaining_) {
    char* result = alloc_ptr_;
    alloc_ptr_ += bytes;
    alloc_bytes_remaining_ -= bytes;
    return result;
  }
  return AllocateFallback(bytes);
}

}  // namespace keyva
