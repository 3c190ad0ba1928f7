// WalReader: reads the records of a write-ahead log back, for recovery.
//
// Record format: see wal_writer.h and docs/formats.md, WAL. The reader returns records in order
// until the first record that is not intact, then decides what that bad record is. The header
// check (over the length field) is tested first: the length is used only once it has passed.
//
// - A torn tail (the normal result of a crash in the middle of an append, or of a file system
//   that extended the file with zeros): status() stays OK, torn_tail() is true, and valid_bytes()
//   is where the DB truncates the log. A bad record is a torn tail when
//     * its 12-byte header is cut short by the end of the file, or
//     * its header check fails and every byte from its start to the end of the file is zero
//       (zero-filled or preallocated space), or
//     * its header check passes and its payload runs past the end of the file (a partial final
//       write), or
//     * its header check passes, its payload checksum fails, and every byte from its end
//       (start + 12 + length) to the end of the file is zero (there may be none).
// - Corruption otherwise: a failed header check with any non-zero byte from the record's start
//   on (even in the last record), or a failed payload checksum with non-zero data after the
//   record's end. status() is then
//     Corruption("<file_name>: corrupt record header at offset N"), or
//     Corruption("<file_name>: corrupt record at offset N: checksum mismatch ...").
//   Records after it are not returned: the DB must not silently skip writes in the middle of its
//   history.
//
// Memory: the reader learns where the file ends only by reading (no file size is needed). It never
// allocates for a claimed length up front: a payload buffer grows as bytes actually arrive, so a
// garbage length costs at most about twice the bytes that remain in the file, never gigabytes.
// Reads go through one 256 KiB buffer, so replaying a large log is one pass of large reads.
//
// Thread safety: none; one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "internal/engine/env.h"
#include "internal/engine/status.h"

namespace keyva {

class WalReader {
 public:
  // Reads file from its current position (the start). file_name is only used in messages.
  WalReader(std::unique_ptr<SequentialFile> file, std::string file_name);
  WalReader(const WalReader&) = delete;
  WalReader& operator=(const WalReader&) = delete;

  // Reads the next intact record into *record (its payload). Returns false at the end, on a torn
  // tail, on corruption, or on an I/O error; status() and torn_tail() then tell which. Once it has
  // returned false it keeps returning false. *record is cleared when false is returned.
  bool ReadRecord(std::string* record);

  // OK at a clean end or a torn tail (and while reading); Corruption naming the file and byte
  // offset of the bad record; or the file's I/O error.
  Status status() const { return status_; }
  // True once the reader has stopped at a torn tail (see the file comment).
  bool torn_tail() const { return torn_tail_; }
  // Offset just after the last intact record returned (0 before the first).
  uint64_t valid_bytes() const { return valid_bytes_; }

 private:
  static constexpr size_t kBufferSize = 256 * 1024;

  size_t Available() const { return buf_end_ - buf_pos_; }
  void Consume(size_t n) {
    buf_pos_ += n;
    offset_ += n;
  }
  // Reads until at least n (<= kBufferSize) bytes are buffered or the file ends.
  // False on an I/O error (recorded in status_).
  bool FillBuffer(size_t n);
  // Reads up to n bytes of the file into dst, stopping early only at the end of the file.
  bool ReadFile(char* dst, size_t n, size_t* got);
  // Reads the next len bytes into *record; *complete is false when the file ended first.
  bool ReadPayload(uint32_t len, std::string* record, bool* complete);
  // Consumes the rest of the file; *zero is true when every byte of it is zero.
  bool RestIsZero(bool* zero);
  // Stops at a torn tail; returns false.
  bool TornTail();
  bool Fail(Status s);

  std::unique_ptr<SequentialFile> file_;
  const std::string file_name_;
  std::unique_ptr<char[]> buf_;
  size_t buf_pos_ = 0;  // buf_[buf_pos_, buf_end_) is read but not yet consumed
  size_t buf_end_ = 0;
  uint64_t offset_ = 0;  // file offset of buf_[buf_pos_]
  bool eof_ = false;     // the file has no more bytes beyond what is buffered
  bool done_ = false;
  bool torn_tail_ = false;
  uint64_t valid_bytes_ = 0;
  Status status_;
};

}  // namespace keyva
