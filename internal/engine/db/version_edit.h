// VersionEdit: one record of the MANIFEST - a change from one Version (set of live SSTs per level)
// to the next, plus the counters recovery needs.
//
// Encoding: a sequence of (varint32 tag, payload) fields:
//   1 log number        varint64: WALs numbered below it are no longer needed
//   2 next file number  varint64
//   3 last sequence     varint64
//   4 deleted file      varint32 level, varint64 file number
//   5 new file          varint32 level, varint64 number, varint64 size,
//                       length-prefixed smallest internal key, length-prefixed largest internal key
//   6 new WAL           varint64 number: a WAL that exists and holds (or will hold) writes; while
//                       its number is >= the log number, recovery requires the file
// Unknown tags are Corruption (a newer format must bump the manifest format explicitly).
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "internal/engine/db/dbformat.h"
#include "internal/engine/status.h"

namespace keyva {

// An SST as the manifest knows it. Immutable once created.
struct FileMeta {
  uint64_t number = 0;
  uint64_t file_size = 0;
  std::string smallest;  // internal keys
  std::string largest;
};

class VersionEdit {
 public:
  std::optional<uint64_t> log_number;
  std::optional<uint64_t> next_file_number;
  std::optional<SequenceNumber> last_sequence;
  std::set<std::pair<int, uint64_t>> deleted_files;  // (level, number)
  std::vector<std::pair<int, FileMeta>> new_files;   // (level, file)
  std::vector<uint64_t> new_wals;

  void AddFile(int level, FileMeta f) { new_files.emplace_back(level, std::move(f)); }
  void RemoveFile(int level, uint64_t number) { deleted_files.emplace(level, number); }

  void EncodeTo(std::string* dst) const;
  Status DecodeFrom(std::string_view src);
};

}  // namespace keyva
