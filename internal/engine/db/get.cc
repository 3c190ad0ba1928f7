// The point-read path: DBImpl::Get, on any thread.
//
// Get takes the published view and sequence (AcquireView, read_view.cc; or the snapshot's
// sequence) and looks for the newest version of key at or below that sequence: in the active
// memtable, then the frozen memtables newest first, then the SSTs of the current Version - every L0
// file whose key range covers the key, newest first, then at most one file per level from L1 down
// (Version::FindFile). An SST is probed through the TableCache (table_cache.h) and
// SstReader::GetWithHash (table/sst_reader.h), which checks the bloom filter with one hash computed
// per Get, then reads one data block (from the block cache or the file). The first version found
// decides: a tombstone or an expired value is NotFound; otherwise the stored value is decoded
// (value_format.h) into the bytes and their ValueMeta.
//
// Seek accounting (LevelDB's allowed_seeks): a lookup that had to probe past a file charges that
// file (ChargeSeek, background.cc); a file charged too often is compacted once the owner next
// schedules work. Get takes no lock after AcquireView except that seek accounting.
#include <cstring>

#include "internal/engine/db/db_impl.h"
#include "internal/engine/db/filename.h"
#include "internal/engine/db/memtable.h"
#include "internal/engine/db/table_cache.h"
#include "internal/engine/table/sst_reader.h"
#include "internal/engine/util/hash.h"

namespace keyva {

Status DBImpl::Get(const ReadOptions& options, std::string_view key, std::string* value,
                   ValueMeta* meta) {
  if (closed_.load(std::memory_order_relaxed)) {
    return Status::InvalidArgument("the database is closed");
  }
  const ViewAtSequence v = AcquireView(options);
  if (options.read_sequence != nullptr) *options.read_sequence = v.sequence;
  const SequenceNumber snapshot = v.sequence;
  std::string stored;
  ValueType type;
  SequenceNumber seq;
  bool found = v.view->mem->Get(key, snapshot, &type, &stored, &seq);
  for (auto it = v.view->frozen.begin(); !found && it != v.view->frozen.end(); ++it) {
    found = (*it)->Get(key, snapshot, &type, &stored, &seq);
  }
  if (!found) {
    // The internal lookup key, on the stack for ordinary key sizes.
    char small[128];
    std::string large;
    std::string_view lookup;
    const uint64_t trailer = PackSequenceAndType(snapshot, kValueTypeForSeek);
    if (key.size() + 8 <= sizeof(small)) {
      if (!key.empty()) std::memcpy(small, key.data(), key.size());
      EncodeFixed64(small + key.size(), trailer);
      lookup = std::string_view(small, key.size() + 8);
    } else {
      large = MakeInternalKey(key, snapshot, kValueTypeForSeek);
      lookup = large;
    }
    const uint64_t key_hash = Hash64(key);  // one hash for every file's bloom filter
    const Version* version = v.view->version.get();
    std::string ikey;
    auto probe = [&](const FileMeta& f) -> Status {
      std::shared_ptr<SstReader> reader;
      Status s = table_cache_->Get(f, &reader);
      if (!s.ok()) return s;
      s = reader->GetWithHash(lookup, key_hash, options.fill_cache, &found, &ikey, &stored);
      if (!s.ok() || !found) return s;
      ParsedInternalKey parsed;
      if (!ParseInternalKey(ikey, &parsed)) {
        return Status::Corruption(SstFileName(dir_, f.number) + ": bad internal key");
      }
      type = parsed.type;
      return Status::OK();
    };
    // Seek accounting (LevelDB's allowed_seeks): a lookup that had to go past a file charges that
    // file; a file charged too often is compacted, so read-mostly data settles into fewer runs.
    const FileMeta* first_probed = nullptr;
    int first_level = 0;
    bool charged = false;
    auto before_probe = [&](const FileMeta& f, int level) {
      if (first_probed == nullptr) {
        first_probed = &f;
        first_level = level;
      } else if (!charged) {
        charged = true;
        ChargeSeek(*first_probed, first_level);
      }
    };
    for (const auto& f : version->files[0]) {
      if (key < ExtractUserKey(f->smallest) || key > ExtractUserKey(f->largest)) continue;
      before_probe(*f, 0);
      Status s = probe(*f);
      if (!s.ok()) return s;
      if (found) break;
    }
    for (int level = 1; !found && level < config::kNumLevels; level++) {
      size_t i = version->FindFile(level, lookup);
      if (i >= version->files[level].size()) continue;
      const FileMeta& f = *version->files[level][i];
      if (key < ExtractUserKey(f.smallest)) continue;
      before_probe(f, level);
      Status s = probe(f);
      if (!s.ok()) return s;
    }
  }
  if (!found || type == ValueType::kDeletion) return Status::NotFound("key not found");
  std::string_view bytes;
  if (!DecodeStoredValue(stored, meta, &bytes)) {
    return Status::Corruption("stored value of a key is malformed");
  }
  if (!options.include_expired && meta->ExpiredAt(env_->NowMicros())) {
    return Status::NotFound("key expired");
  }
  value->assign(bytes.data(), bytes.size());
  return Status::OK();
}

}  // namespace keyva
