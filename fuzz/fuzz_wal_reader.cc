// Fuzz target: the WAL reader (wal_reader.h) on arbitrary file contents, and the write-batch
// decoder on every record it returns. Invariants checked: no crash or sanitizer report; the
// reader stops at a clean end, a torn tail or a Corruption that names the file; every record it
// returns lies within the file; valid_bytes never exceeds the input.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "internal/engine/testing/fault_env.h"
#include "internal/engine/wal/wal_reader.h"
#include "internal/engine/write_batch.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  keyva::FaultEnv env;
  if (!env.CreateDir("/f").ok()) abort();
  const std::string name = "/f/000001.log";
  if (!env.WriteRaw(name, std::string(reinterpret_cast<const char*>(data), size)).ok()) abort();
  std::unique_ptr<keyva::SequentialFile> file;
  if (!env.NewSequentialFile(name, &file).ok()) abort();
  keyva::WalReader reader(std::move(file), name);
  std::string record;
  uint64_t total = 0;
  keyva::WriteBatch batch;
  while (reader.ReadRecord(&record)) {
    total += record.size() + 12;
    if (total > size) abort();
    if (batch.SetContents(record).ok()) {
      (void)batch.Iterate([](keyva::ValueType, std::string_view k, std::string_view v) {
        if (k.size() > (1u << 31) || v.size() > (1u << 31)) abort();
        return keyva::Status::OK();
      });
    }
  }
  if (reader.valid_bytes() > size) abort();
  if (reader.status().IsCorruption() && reader.status().message().find(name) == std::string::npos) {
    abort();
  }
  return 0;
}
