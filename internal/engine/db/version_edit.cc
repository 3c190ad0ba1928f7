#include "internal/engine/db/version_edit.h"

#include "internal/engine/util/coding.h"

namespace keyva {
namespace {

enum Tag : uint32_t {
  kLogNumber = 1,
  kNextFileNumber = 2,
  kLastSequence = 3,
  kDeletedFile = 4,
  kNewFile = 5,
  kNewWal = 6,
};

bool GetLevel(std::string_view* in, int* level) {
  uint32_t v;
  if (!GetVarint32(in, &v) || v >= static_cast<uint32_t>(config::kNumLevels)) return false;
  *level = static_cast<int>(v);
  return true;
}

}  // namespace

void VersionEdit::EncodeTo(std::string* dst) const {
  if (log_number) {
    PutVarint32(dst, kLogNumber);
    PutVarint64(dst, *log_number);
  }
  if (next_file_number) {
    PutVarint32(dst, kNextFileNumber);
    PutVarint64(dst, *next_file_number);
  }
  if (last_sequence) {
    PutVarint32(dst, kLastSequence);
    PutVarint64(dst, *last_sequence);
  }
  for (const auto& [level, number] : deleted_files) {
    PutVarint32(dst, kDeletedFile);
    PutVarint32(dst, static_cast<uint32_t>(level));
    PutVarint64(dst, number);
  }
  for (const auto& [level, f] : new_files) {
    PutVarint32(dst, kNewFile);
    PutVarint32(dst, static_cast<uint32_t>(level));
    PutVarint64(dst, f.number);
    PutVarint64(dst, f.file_size);
    PutLengthPrefixed(dst, f.smallest);
    PutLengthPrefixed(dst, f.largest);
  }
  for (uint64_t w : new_wals) {
    PutVarint32(dst, kNewWal);
    PutVarint64(dst, w);
  }
}

Status VersionEdit::DecodeFrom(std::string_view in) {
  *this = VersionEdit();
  while (!in.empty()) {
    uint32_t tag;
    if (!GetVarint32(&in, &tag)) return Status::Corruption("version edit: bad tag");
    uint64_t v;
    switch (tag) {
      case kLogNumber:
        if (!GetVarint64(&in, &v)) return Status::Corruption("version edit: bad log number");
        log_number = v;
        break;
      case kNextFileNumber:
        if (!GetVarint64(&in, &v)) return Status::Corruption("version edit: bad next file number");
        next_file_number = v;
        break;
      case kLastSequence:
        if (!GetVarint64(&in, &v) || v > kMaxSequenceNumber) {
          return Status::Corruption("version edit: bad last sequence");
        }
        last_sequence = v;
        break;
      case kDeletedFile: {
        int level;
        if (!GetLevel(&in, &level) || !GetVarint64(&in, &v)) {
          return Status::Corruption("version edit: bad deleted file");
        }
        deleted_files.emplace(level, v);
        break;
      }
      case kNewFile: {
        int level;
        FileMeta f;
        std::string_view smallest, largest;
        if (!GetLevel(&in, &level) || !GetVarint64(&in, &f.number) ||
            !GetVarint64(&in, &f.file_size) || !GetLengthPrefixed(&in, &smallest) ||
            !GetLengthPrefixed(&in, &largest) || smallest.size() < 8 || largest.size() < 8) {
          return Status::Corruption("version edit: bad new file");
        }
        f.smallest.assign(smallest);
        f.largest.assign(largest);
        new_files.emplace_back(level, std::move(f));
        break;
      }
      case kNewWal:
        if (!GetVarint64(&in, &v)) return Status::Corruption("version edit: bad WAL number");
        new_wals.push_back(v);
        break;
      default:
        return Status::Corruption("version edit: unknown tag " + std::to_string(tag));
    }
  }
  return Status::OK();
}

}  // namespace keyva
