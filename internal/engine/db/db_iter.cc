// The range-read path: DBImpl::NewIterator and the user-facing iterator (DBIter).
//
// NewIterator merges (merging_iterator.h) one iterator per memtable (active and frozen), one per
// L0 file and one concatenating iterator per deeper level (its files do not overlap, so they are
// opened one at a time, through the TableCache, as the iteration reaches them). DBIter walks the
// merged internal keys and shows each user key once: the newest version at or below the read's
// sequence, skipped when it is a tombstone or expired (expiry is judged against the clock at
// NewIterator; ReadOptions::include_expired shows expired values too). A malformed key or stored
// value makes the iterator invalid with Corruption.
//
// Lifetime: a DBIter holds shared_ptrs to the memtables, the Version and the block cache it reads,
// so it stays valid while the DB flushes, compacts, and even after the DB is closed. It may be
// made on any thread (from the published view, read_view.cc) and used by one thread at a time,
// and reads a fixed state: the view and sequence of NewIterator (the active memtable gains
// entries meanwhile, above that sequence, which the iterator skips).
#include "internal/engine/db/db_impl.h"
#include "internal/engine/db/memtable.h"
#include "internal/engine/db/merging_iterator.h"
#include "internal/engine/db/table_cache.h"
#include "internal/engine/table/block_cache.h"
#include "internal/engine/table/sst_reader.h"

namespace keyva {

namespace {

// The user-facing iterator: collapses versions, hides tombstones and expired values.
class DBIter final : public DBIterator {
 public:
  DBIter(std::unique_ptr<Iterator> internal, SequenceNumber snapshot, int64_t now_us,
         std::vector<std::shared_ptr<MemTable>> mems, std::shared_ptr<const Version> version,
         std::shared_ptr<BlockCache> cache)
      : cache_(std::move(cache)),
        mems_(std::move(mems)),
        version_(std::move(version)),
        internal_(std::move(internal)),
        snapshot_(snapshot),
        now_us_(now_us) {}

  bool Valid() const override { return valid_; }
  void SeekToFirst() override {
    internal_->SeekToFirst();
    skip_.clear();
    has_skip_ = false;
    FindNextVisible();
  }
  void Seek(std::string_view target) override {
    seek_key_.assign(target);  // the internal lookup key, in a buffer reused by every Seek
    PutFixed64(&seek_key_, PackSequenceAndType(snapshot_, kValueTypeForSeek));
    internal_->Seek(seek_key_);
    skip_.clear();
    has_skip_ = false;
    FindNextVisible();
  }
  void Next() override {
    internal_->Next();
    FindNextVisible();
  }
  std::string_view key() const override { return skip_; }
  std::string_view value() const override { return value_; }
  const ValueMeta& meta() const override { return meta_; }
  Status status() const override { return status_.ok() ? internal_->status() : status_; }

 private:
  void FindNextVisible() {
    valid_ = false;
    for (; internal_->Valid(); internal_->Next()) {
      ParsedInternalKey k;
      if (!ParseInternalKey(internal_->key(), &k)) {
        status_ = Status::Corruption("bad internal key during iteration");
        return;
      }
      if (k.sequence > snapshot_) continue;
      if (has_skip_ && k.user_key == skip_) continue;  // an older version of a decided key
      skip_.assign(k.user_key);
      has_skip_ = true;
      if (k.type == ValueType::kDeletion) continue;
      if (!DecodeStoredValue(internal_->value(), &meta_, &value_)) {
        status_ = Status::Corruption("malformed stored value during iteration");
        return;
      }
      if (meta_.ExpiredAt(now_us_)) continue;
      valid_ = true;
      return;
    }
  }

  // (Declared before internal_, so they outlive it: its level iterators point into version_, and
  // its table readers use the cache.)
  std::shared_ptr<BlockCache> cache_;            // keep the block cache alive
  std::vector<std::shared_ptr<MemTable>> mems_;  // keep the memtables alive
  std::shared_ptr<const Version> version_;       // keep the files alive
  std::unique_ptr<Iterator> internal_;
  SequenceNumber snapshot_;
  int64_t now_us_;
  std::string seek_key_;
  bool valid_ = false;
  std::string skip_;
  bool has_skip_ = false;
  std::string_view value_;
  ValueMeta meta_;
  Status status_;
};

}  // namespace

std::unique_ptr<DBIterator> DBImpl::NewIterator(const ReadOptions& options) {
  const ViewAtSequence v = AcquireView(options);
  const SequenceNumber snapshot = v.sequence;
  std::vector<std::shared_ptr<MemTable>> mems{v.view->mem};
  mems.insert(mems.end(), v.view->frozen.begin(), v.view->frozen.end());
  std::shared_ptr<const Version> version = v.view->version;
  // One child per memtable and per L0 file, one per deeper level.
  std::vector<std::unique_ptr<Iterator>> children;
  children.reserve(mems.size() + version->files[0].size() + config::kNumLevels - 1);
  for (const auto& m : mems) children.push_back(m->NewIterator());
  bool fill_cache = options.fill_cache;
  auto open_file = [tables = table_cache_,
                    fill_cache](const FileMeta& f) -> std::unique_ptr<Iterator> {
    std::shared_ptr<SstReader> reader;
    Status s = tables->Get(f, &reader);
    if (!s.ok()) return NewEmptyIterator(s);
    return reader->NewIterator(fill_cache);
  };
  for (const auto& f : version->files[0]) children.push_back(open_file(*f));
  for (int level = 1; level < config::kNumLevels; level++) {
    // The Iter keeps version alive for as long as these level iterators exist: they can point
    // into it instead of copying its file lists.
    const auto* files = &version->files[level];
    if (files->empty()) continue;
    children.push_back(NewConcatenatingIterator(
        files->size(), [files, open_file](size_t i) { return open_file(*(*files)[i]); },
        [files](size_t i) { return std::string_view((*files)[i]->largest); }));
  }
  return std::make_unique<DBIter>(NewMergingIterator(std::move(children)), snapshot,
                                  options.include_expired ? 0 : env_->NowMicros(), std::move(mems),
                                  std::move(version), block_cache_);
}

}  // namespace keyva
