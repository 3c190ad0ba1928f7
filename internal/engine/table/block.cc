// Block parsing and iteration; see block.h for the checks made on untrusted bytes.
#include "internal/engine/table/block.h"

#include <cassert>

#include "internal/engine/db/dbformat.h"
#include "internal/engine/util/coding.h"

namespace keyva {

Block::Block(std::string owned, std::unique_ptr<char[]> heap, size_t size, uint32_t restart_offset,
             uint32_t num_restarts)
    : owned_(std::move(owned)),
      heap_(std::move(heap)),
      data_(heap_ ? heap_.get() : owned_.data()),
      size_(size),
      restart_offset_(restart_offset),
      num_restarts_(num_restarts) {}

uint32_t Block::RestartPoint(uint32_t index) const {
  return DecodeFixed32(data_ + restart_offset_ + index * sizeof(uint32_t));
}

Status Block::Parse(const char* data, size_t size, uint32_t* restart_offset_out,
                    uint32_t* num_restarts_out) {
  if (size < sizeof(uint32_t)) return Status::Corruption("block too short");
  if (size > UINT32_MAX) return Status::Corruption("block too large");
  const uint32_t num_restarts = DecodeFixed32(data + size - sizeof(uint32_t));
  const size_t max_restarts = (size - sizeof(uint32_t)) / sizeof(uint32_t);
  if (num_restarts == 0 || num_restarts > max_restarts) {
    return Status::Corruption("block has a bad restart count " + std::to_string(num_restarts));
  }
  const auto restart_offset =
      static_cast<uint32_t>(size - sizeof(uint32_t) * (uint64_t{num_restarts} + 1));
  uint32_t previous = 0;
  for (uint32_t i = 0; i < num_restarts; i++) {
    uint32_t offset = DecodeFixed32(data + restart_offset + i * sizeof(uint32_t));
    bool ok = i == 0 ? offset == 0 : (offset > previous && offset < restart_offset);
    if (!ok) return Status::Corruption("block has a bad restart offset");
    previous = offset;
  }
  *restart_offset_out = restart_offset;
  *num_restarts_out = num_restarts;
  return Status::OK();
}

Status Block::Create(std::string contents, std::shared_ptr<const Block>* block) {
  uint32_t restart_offset, num_restarts;
  Status s = Block::Parse(contents.data(), contents.size(), &restart_offset, &num_restarts);
  if (!s.ok()) return s;
  const size_t size = contents.size();
  block->reset(new Block(std::move(contents), nullptr, size, restart_offset, num_restarts));
  return Status::OK();
}

Status Block::Create(std::unique_ptr<char[]> data, size_t size,
                     std::shared_ptr<const Block>* block) {
  uint32_t restart_offset, num_restarts;
  Status s = Block::Parse(data.get(), size, &restart_offset, &num_restarts);
  if (!s.ok()) return s;
  block->reset(new Block(std::string(), std::move(data), size, restart_offset, num_restarts));
  return Status::OK();
}

BlockIterator::BlockIterator(const Block* block, std::shared_ptr<const Block> owner)
    : owner_(std::move(owner)),
      block_(block),
      data_(block_->data_),
      limit_(block_->restart_offset_),
      next_(limit_) {}

void BlockIterator::SeekToFirst() {
  if (!status_.ok()) return;
  SeekToRestart(0);
  ParseNextEntry();
}

void BlockIterator::Next() {
  assert(valid_);
  ParseNextEntry();
}

void BlockIterator::Seek(std::string_view target) {
  assert(target.size() >= 8);
  if (!status_.ok()) return;
  // Binary search for the last restart point whose key is < target, then scan forward.
  uint32_t left = 0;
  uint32_t right = block_->num_restarts_ - 1;
  while (left < right) {
    uint32_t mid = left + (right - left + 1) / 2;
    std::string_view mid_key;
    if (!RestartKey(mid, &mid_key)) return;
    if (CompareInternalKeys(mid_key, target) < 0) {
      left = mid;
    } else {
      right = mid - 1;
    }
  }
  SeekToRestart(left);
  while (ParseNextEntry()) {
    if (CompareInternalKeys(key_, target) >= 0) return;
  }
}

void BlockIterator::SeekToRestart(uint32_t index) {
  key_.clear();
  valid_ = false;
  next_ = block_->RestartPoint(index);
}

void BlockIterator::Corrupt(const char* what) {
  status_ = Status::Corruption(std::string("bad block entry: ") + what);
  valid_ = false;
  next_ = limit_;
  key_.clear();
  value_ = {};
}

// Decodes the entry header at p (before limit_). Returns the start of the key delta, or nullptr.
const char* BlockIterator::DecodeEntry(const char* p, uint32_t* shared, uint32_t* non_shared,
                                       uint32_t* value_len) const {
  const char* limit = data_ + limit_;
  // Fast path: all three lengths are single-byte varints (LevelDB does the same).
  if (limit - p >= 3 && ((static_cast<unsigned char>(p[0]) | static_cast<unsigned char>(p[1]) |
                          static_cast<unsigned char>(p[2])) < 128)) {
    *shared = static_cast<unsigned char>(p[0]);
    *non_shared = static_cast<unsigned char>(p[1]);
    *value_len = static_cast<unsigned char>(p[2]);
    p += 3;
  } else {
    p = GetVarint32Ptr(p, limit, shared);
    if (p != nullptr) p = GetVarint32Ptr(p, limit, non_shared);
    if (p != nullptr) p = GetVarint32Ptr(p, limit, value_len);
    if (p == nullptr) return nullptr;
  }
  const auto room = static_cast<uint64_t>(limit - p);
  if (uint64_t{*non_shared} + *value_len > room) return nullptr;
  return p;
}

// The full key of the entry at restart point index (which must not share bytes).
bool BlockIterator::RestartKey(uint32_t index, std::string_view* key) {
  uint32_t shared, non_shared, value_len;
  const char* p =
      DecodeEntry(data_ + block_->RestartPoint(index), &shared, &non_shared, &value_len);
  if (p == nullptr) {
    Corrupt("entry extends past the end of the block");
    return false;
  }
  if (shared != 0) {
    Corrupt("restart entry shares a prefix");
    return false;
  }
  if (non_shared < 8) {
    Corrupt("key shorter than an internal key");
    return false;
  }
  *key = std::string_view(p, non_shared);
  return true;
}

// Moves to the entry at next_. Returns false at the end of the block or on corruption.
bool BlockIterator::ParseNextEntry() {
  if (next_ >= limit_) {
    valid_ = false;
    return false;
  }
  uint32_t shared, non_shared, value_len;
  const char* p = DecodeEntry(data_ + next_, &shared, &non_shared, &value_len);
  if (p == nullptr) {
    Corrupt("entry extends past the end of the block");
    return false;
  }
  if (shared > key_.size()) {
    Corrupt("shared prefix longer than the previous key");
    return false;
  }
  key_.resize(shared);
  key_.append(p, non_shared);
  if (key_.size() < 8) {
    Corrupt("key shorter than an internal key");
    return false;
  }
  value_ = std::string_view(p + non_shared, value_len);
  next_ = static_cast<uint32_t>(p + non_shared + value_len - data_);
  valid_ = true;
  return true;
}

std::unique_ptr<Iterator> NewBlockIterator(std::shared_ptr<const Block> block) {
  const Block* raw = block.get();
  return std::make_unique<BlockIterator>(raw, std::move(block));
}

}  // namespace keyva
