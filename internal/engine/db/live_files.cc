// The checks on MANIFEST-named files and the WAL replay loop; see live_files.h.
#include "internal/engine/db/live_files.h"

#include "internal/engine/wal/wal_reader.h"

namespace keyva {

Status NamedButMissing(const std::string& name) {
  return Status::Corruption(name + ": named by the MANIFEST but missing");
}

Status CheckLiveSst(Env* env, const std::string& name, uint64_t expected_size, bool* exists,
                    uint64_t* size) {
  *exists = false;
  *size = 0;
  Status s = env->GetFileSize(name, size);
  if (s.IsNotFound()) return NamedButMissing(name);
  if (!s.ok()) return s;
  *exists = true;
  if (expected_size != 0 && *size != expected_size) {
    return Status::Corruption(name + ": size " + std::to_string(*size) + " but the MANIFEST says " +
                              std::to_string(expected_size) +
                              (*size < expected_size ? " (truncated)" : " (grown)"));
  }
  return Status::OK();
}

Status ReadWalBatches(std::unique_ptr<SequentialFile> file, const std::string& name,
                      const std::function<Status(const WriteBatch& batch)>& apply,
                      WalReplay* replay) {
  *replay = WalReplay();
  WalReader reader(std::move(file), name);
  std::string record;
  WriteBatch batch;
  while (reader.ReadRecord(&record)) {
    Status s = batch.SetContents(record);
    if (s.ok()) s = apply(batch);
    if (!s.ok()) {
      replay->bad_batch = true;
      replay->valid_bytes = reader.valid_bytes();
      return s;
    }
    replay->records++;
  }
  replay->valid_bytes = reader.valid_bytes();
  replay->torn_tail = reader.torn_tail();
  return reader.status();
}

}  // namespace keyva
