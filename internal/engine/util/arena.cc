#include "internal/engine/util/arena.h"

#include <cassert>
#include <cstdint>

namespace keyva {

static_assert((alignof(void*) & (alignof(void*) - 1)) == 0, "pointer alignment is a power of two");

Arena::Arena() = default;
Arena::~Arena() = default;

char* Arena::AllocateFallback(size_t bytes) {
  assert(bytes > 0);
  if (bytes > kBlockSize / 4) {
    // A large object gets its own block, so the current block's tail stays usable.
    return AllocateNewBlock(bytes);
  }
  // Start a fresh block; the rest of the current one (at most a quarter block) is wasted.
  alloc_ptr_ = AllocateNewBlock(kBlockSize);
  alloc_bytes_remaining_ = kBlockSize;
  char* result = alloc_ptr_;
  alloc_ptr_ += bytes;
  alloc_bytes_remaining_ -= bytes;
  return result;
}

char* Arena::AllocateAligned(size_t bytes) {
  size_t misalign = reinterpret_cast<uintptr_t>(alloc_ptr_) & (kAlign - 1);
  size_t slop = misalign == 0 ? 0 : kAlign - misalign;
  size_t needed = bytes + slop;
  char* result;
  if (needed <= alloc_bytes_remaining_) {
    result = alloc_ptr_ + slop;
    alloc_ptr_ += needed;
    alloc_bytes_remaining_ -= needed;
  } else {
    // Fresh blocks come from new[], which aligns for any fundamental type.
    result = AllocateFallback(bytes);
  }
  assert((reinterpret_cast<uintptr_t>(result) & (kAlign - 1)) == 0);
  return result;
}

char* Arena::AllocateNewBlock(size_t block_bytes) {
  blocks_.emplace_back(new char[block_bytes]);
  memory_usage_.fetch_add(block_bytes + sizeof(blocks_.back()), std::memory_order_relaxed);
  return blocks_.back().get();
}

}  // namespace keyva
