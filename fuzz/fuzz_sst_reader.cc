// Fuzz target: the SST reader (sst_reader.h) on arbitrary file contents: Open (footer, index and
// filter blocks), then a full scan, point lookups, seeks and VerifyChecksums. Invariants: no crash
// or sanitizer report; errors are Corruption (never an IOError on an in-memory file). The fuzz
// build skips checksum comparisons (FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION, see sst_format.cc),
// so mutated blocks reach the decompressors and block parsers.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "internal/engine/db/dbformat.h"
#include "internal/engine/table/block_cache.h"
#include "internal/engine/table/sst_reader.h"
#include "internal/engine/testing/fault_env.h"

namespace {
void Check(const keyva::Status& s, const std::string& name) {
  if (s.ok() || s.IsNotFound() || s.IsInvalidArgument()) return;
  if (!s.IsCorruption()) abort();
  (void)name;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  keyva::FaultEnv env;
  if (!env.CreateDir("/f").ok()) abort();
  const std::string name = "/f/000007.sst";
  if (!env.WriteRaw(name, std::string(reinterpret_cast<const char*>(data), size)).ok()) abort();
  std::unique_ptr<keyva::RandomAccessFile> file;
  if (!env.NewRandomAccessFile(name, &file).ok()) abort();
  keyva::BlockCache cache(1 << 20);
  std::shared_ptr<keyva::SstReader> reader;
  keyva::Status s = keyva::SstReader::Open(std::move(file), size, 7, name, &cache, &reader);
  Check(s, name);
  if (!s.ok()) return 0;

  std::string first, last;
  auto it = reader->NewIterator(true);
  int n = 0;
  for (it->SeekToFirst(); it->Valid() && n < 100000; it->Next(), n++) {
    std::string k(it->key());
    if (n == 0) first = k;
    last = std::move(k);
    (void)it->value();
  }
  Check(it->status(), name);
  for (const std::string* k : {&first, &last}) {
    if (k->size() < 8) continue;
    std::string user(keyva::ExtractUserKey(*k));
    std::string lookup =
        keyva::MakeInternalKey(user, keyva::kMaxSequenceNumber, keyva::kValueTypeForSeek);
    bool found = false;
    std::string ikey, value;
    Check(reader->Get(lookup, true, &found, &ikey, &value), name);
    auto seek = reader->NewIterator(false);
    seek->Seek(lookup);
    Check(seek->status(), name);
  }
  Check(reader->VerifyChecksums(), name);
  return 0;
}
