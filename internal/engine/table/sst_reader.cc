// SstReader and its two-level iterator (index block -> data blocks); see sst_reader.h.
#include "internal/engine/table/sst_reader.h"

#include <cassert>

#include "internal/engine/db/dbformat.h"
#include "internal/engine/table/bloom.h"
#include "internal/engine/util/hash.h"

namespace keyva {
namespace {

// True if handle's block plus trailer ends exactly at end.
bool EndsAt(const BlockHandle& handle, uint64_t end) {
  return handle.size <= end && handle.offset <= end - handle.size &&
         end - handle.size - handle.offset == kBlockTrailerSize;
}

}  // namespace

// Walks the index block; for each entry loads the data block it names and walks that.
class SstIterator final : public Iterator {
 public:
  SstIterator(std::shared_ptr<const SstReader> reader, bool fill_cache)
      : reader_(std::move(reader)),
        fill_cache_(fill_cache),
        index_iter_(NewBlockIterator(reader_->index_block_)) {}

  bool Valid() const override { return data_iter_ != nullptr && data_iter_->Valid(); }

  void SeekToFirst() override {
    index_iter_->SeekToFirst();
    LoadDataBlock();
    if (data_iter_ != nullptr) data_iter_->SeekToFirst();
    SkipExhaustedBlocks();
  }

  void Seek(std::string_view target) override {
    index_iter_->Seek(target);
    LoadDataBlock();
    if (data_iter_ != nullptr) data_iter_->Seek(target);
    SkipExhaustedBlocks();
  }

  void Next() override {
    assert(Valid());
    data_iter_->Next();
    SkipExhaustedBlocks();
  }

  std::string_view key() const override { return data_iter_->key(); }
  std::string_view value() const override { return data_iter_->value(); }
  Status status() const override { return status_; }

 private:
  // Points data_iter_ at the block of the current index entry (unpositioned), or clears it at the
  // end of the index or on an error (recorded in status_, which is sticky).
  void LoadDataBlock() {
    data_iter_.reset();
    if (!status_.ok()) return;
    if (!index_iter_->Valid()) {
      status_ = reader_->Annotate(index_iter_->status());
      return;
    }
    BlockHandle handle;
    std::shared_ptr<const Block> block;
    Status s = reader_->DecodeDataHandle(index_iter_->value(), &handle);
    if (s.ok()) s = reader_->ReadDataBlock(handle, fill_cache_, &block);
    if (!s.ok()) {
      status_ = s;
      return;
    }
    data_iter_ = NewBlockIterator(std::move(block));
  }

  // While the data iterator is past the end of its block, moves on to the next block.
  void SkipExhaustedBlocks() {
    while (data_iter_ != nullptr && !data_iter_->Valid()) {
      if (!data_iter_->status().ok()) {
        status_ = reader_->Annotate(data_iter_->status());
        data_iter_.reset();
        return;
      }
      index_iter_->Next();
      LoadDataBlock();
      if (data_iter_ != nullptr) data_iter_->SeekToFirst();
    }
  }

  const std::shared_ptr<const SstReader> reader_;
  const bool fill_cache_;
  const std::unique_ptr<Iterator> index_iter_;
  std::unique_ptr<Iterator> data_iter_;  // null when not positioned in a block
  Status status_;
};

SstReader::SstReader(std::unique_ptr<RandomAccessFile> file, uint64_t file_size,
                     uint64_t file_number, std::string file_name, BlockCache* cache)
    : file_(std::move(file)),
      file_size_(file_size),
      file_number_(file_number),
      file_name_(std::move(file_name)),
      cache_(cache) {}

SstReader::~SstReader() {
  if (pinned_ > 0) cache_->Unpin(pinned_);
}

Status SstReader::Annotate(const Status& s) const {
  if (!s.IsCorruption()) return s;
  return Status::Corruption(file_name_ + ": " + s.message());
}

Status SstReader::Open(std::unique_ptr<RandomAccessFile> file, uint64_t file_size,
                       uint64_t file_number, const std::string& file_name, BlockCache* cache,
                       std::shared_ptr<SstReader>* reader) {
  std::shared_ptr<SstReader> r(
      new SstReader(std::move(file), file_size, file_number, file_name, cache));
  if (file_size < kFooterLength) {
    return r->Annotate(Status::Corruption("file too short to be an SST (" +
                                          std::to_string(file_size) + " bytes)"));
  }
  const uint64_t footer_start = file_size - kFooterLength;
  char footer_buf[kFooterLength];
  std::string_view footer_bytes;
  Status s = r->file_->Read(footer_start, kFooterLength, &footer_bytes, footer_buf);
  if (!s.ok()) return s;
  if (footer_bytes.size() != kFooterLength) {
    return r->Annotate(Status::Corruption("truncated footer"));
  }
  Footer footer;
  s = footer.DecodeFrom(footer_bytes);
  if (!s.ok()) return r->Annotate(s);
  r->index_handle_ = footer.index_handle;
  r->filter_handle_ = footer.filter_handle;

  if (!EndsAt(footer.index_handle, footer_start)) {
    return r->Annotate(Status::Corruption("index block does not end at the footer"));
  }
  BlockContents contents;
  s = ReadBlock(*r->file_, footer_start, footer.index_handle, &contents);
  if (s.ok()) s = Block::Create(std::move(contents.data), contents.size, &r->index_block_);
  if (!s.ok() && !s.IsCorruption()) return s;  // an I/O error stays one (it may be transient)
  if (!s.ok()) return r->Annotate(Status::Corruption("index block: " + s.message()));
  r->data_end_ = footer.index_handle.offset;

  if (!footer.filter_handle.empty()) {
    if (!EndsAt(footer.filter_handle, footer.index_handle.offset)) {
      return r->Annotate(Status::Corruption("filter block does not end at the index block"));
    }
    s = ReadBlock(*r->file_, footer.index_handle.offset, footer.filter_handle, &r->filter_);
    if (s.ok()) s = ValidateBloomFilter(r->filter_.view());
    if (!s.ok() && !s.IsCorruption()) return s;
    if (!s.ok()) return r->Annotate(Status::Corruption("filter block: " + s.message()));
    r->has_filter_ = true;
    r->data_end_ = footer.filter_handle.offset;
  }
  if (cache != nullptr) {
    r->pinned_ = r->IndexAndFilterBytes();
    cache->Pin(r->pinned_);
  }
  *reader = std::move(r);
  return Status::OK();
}

std::unique_ptr<Iterator> SstReader::NewIterator(bool fill_cache) const {
  return std::make_unique<SstIterator>(shared_from_this(), fill_cache);
}

Status SstReader::DecodeDataHandle(std::string_view index_value, BlockHandle* handle) const {
  Status s = handle->DecodeFrom(&index_value);
  if (s.ok() && !index_value.empty()) s = Status::Corruption("bad block handle");
  if (!s.ok()) return Annotate(Status::Corruption("index block: " + s.message()));
  return Status::OK();
}

Status SstReader::ReadDataBlock(const BlockHandle& handle, bool fill_cache,
                                std::shared_ptr<const Block>* block) const {
  if (cache_ != nullptr) {
    *block = cache_->Lookup(file_number_, handle.offset);
    if (*block != nullptr) return Status::OK();
  }
  BlockContents contents;
  Status s = ReadBlock(*file_, data_end_, handle, &contents);
  if (s.ok()) s = Block::Create(std::move(contents.data), contents.size, block);
  if (!s.ok()) return Annotate(s);
  if (cache_ != nullptr && fill_cache && cache_->Admit(file_number_, handle.offset)) {
    cache_->Insert(file_number_, handle.offset, *block, (*block)->ApproximateMemoryUsage());
  }
  return Status::OK();
}

bool SstReader::KeyMayMatch(std::string_view user_key) const {
  return !has_filter_ || BloomFilterMayMatch(filter_.view(), user_key);
}

bool SstReader::KeyHashMayMatch(uint64_t user_key_hash) const {
  return !has_filter_ || BloomFilterMayMatchHash(filter_.view(), user_key_hash);
}

Status SstReader::Get(std::string_view lookup_key, bool fill_cache, bool* found,
                      std::string* internal_key, std::string* value) const {
  *found = false;
  if (lookup_key.size() < 8) return Status::InvalidArgument("lookup key is not an internal key");
  return GetWithHash(lookup_key, Hash64(ExtractUserKey(lookup_key)), fill_cache, found,
                     internal_key, value);
}

Status SstReader::GetWithHash(std::string_view lookup_key, uint64_t user_key_hash, bool fill_cache,
                              bool* found, std::string* internal_key, std::string* value) const {
  *found = false;
  if (lookup_key.size() < 8) return Status::InvalidArgument("lookup key is not an internal key");
  if (!KeyHashMayMatch(user_key_hash)) return Status::OK();
  const std::string_view user_key = ExtractUserKey(lookup_key);

  // The first index entry >= lookup_key names the only block that can hold the first entry
  // >= lookup_key with this user key: separators are >= their block's last key, and a separator
  // greater than that last key has a user key below the next block's first user key.
  BlockIterator index_iter(index_block_.get());
  index_iter.Seek(lookup_key);
  if (!index_iter.Valid()) return Annotate(index_iter.status());
  BlockHandle handle;
  Status s = DecodeDataHandle(index_iter.value(), &handle);
  std::shared_ptr<const Block> block;
  if (s.ok()) s = ReadDataBlock(handle, fill_cache, &block);
  if (!s.ok()) return s;
  BlockIterator iter(block.get());
  iter.Seek(lookup_key);
  if (!iter.Valid()) return Annotate(iter.status());
  if (ExtractUserKey(iter.key()) != user_key) return Status::OK();
  *found = true;
  internal_key->assign(iter.key());
  value->assign(iter.value());
  return Status::OK();
}

Status SstReader::VerifyChecksums() const {
  BlockContents contents;
  Status s = ReadBlock(*file_, file_size_ - kFooterLength, index_handle_, &contents);
  if (s.ok() && contents.view() != index_block_->contents()) {
    s = Status::Corruption("index block changed on disk since the file was opened");
  }
  if (s.ok() && has_filter_) {
    s = ReadBlock(*file_, index_handle_.offset, filter_handle_, &contents);
    if (s.ok() && contents.view() != filter_.view()) {
      s = Status::Corruption("filter block changed on disk since the file was opened");
    }
  }
  if (!s.ok()) return Annotate(s);

  std::string previous_key;
  std::unique_ptr<Iterator> index_iter = NewBlockIterator(index_block_);
  for (index_iter->SeekToFirst(); index_iter->Valid(); index_iter->Next()) {
    BlockHandle handle;
    s = DecodeDataHandle(index_iter->value(), &handle);
    if (!s.ok()) return s;
    std::shared_ptr<const Block> block;
    s = ReadBlock(*file_, data_end_, handle, &contents);
    if (s.ok()) s = Block::Create(std::move(contents.data), contents.size, &block);
    if (!s.ok()) return Annotate(s);
    std::unique_ptr<Iterator> iter = NewBlockIterator(std::move(block));
    for (iter->SeekToFirst(); iter->Valid(); iter->Next()) {
      if (!previous_key.empty() && CompareInternalKeys(previous_key, iter->key()) >= 0) {
        return Annotate(Status::Corruption("keys out of order at block offset " +
                                           std::to_string(handle.offset)));
      }
      if (CompareInternalKeys(iter->key(), index_iter->key()) > 0) {
        return Annotate(Status::Corruption("key past its index entry at block offset " +
                                           std::to_string(handle.offset)));
      }
      previous_key.assign(iter->key());
    }
    if (!iter->status().ok()) return Annotate(iter->status());
  }
  return Annotate(index_iter->status());
}

size_t SstReader::IndexAndFilterBytes() const {
  return index_block_->ApproximateMemoryUsage() + filter_.size;
}

}  // namespace keyva
