// WalWriter: appends records to a write-ahead log (WAL) file.
//
// The DB writes one record per group commit (an encoded write batch) before applying it to the
// memtable, so after a crash replaying the log rebuilds the memtable; the MANIFEST uses the same
// framing. Record format (little-endian; docs/formats.md, WAL has the byte-by-byte layout and how a
// reader tells a torn tail from corruption):
//     fixed32 checksum | fixed32 payload length | fixed32 header check | payload
// where checksum = Checksum32(the 4 length bytes, payload) and header check =
// Checksum32(the 4 length bytes) ^ wal::kHeaderCheckMask (hash.h). The header check lets a reader
// trust a length before it trusts the payload, so a damaged length is never mistaken for a torn
// tail. There is no block framing, no file header and no padding: a log is records back to back,
// and an empty file is an empty log.
//
// Errors are sticky: once an Append, Flush or Sync fails, the file may end in a partial record or
// its durability is unknown, so every later AddRecord/Sync returns that same error. The DB then
// has to stop writing to this log (start a new one, or fail).
//
// Thread safety: none; one thread at a time (the DB's storage thread).
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include "internal/engine/env.h"
#include "internal/engine/status.h"

namespace keyva {

namespace wal {
// checksum + length + header check.
constexpr size_t kHeaderSize = 12;
// XORed into the header check ("keyv" in ASCII) so that an all-zero header never passes it.
constexpr uint32_t kHeaderCheckMask = 0x6b657976;
// The length field is 32 bits. (Write batches stay far below: values are at most 1 GiB.)
constexpr uint64_t kMaxPayloadSize = 0xffffffffu;

// The header check stored after the length: Checksum32(length_bytes) ^ kHeaderCheckMask.
// REQUIRES: length_bytes.size() == 4 (the encoded length field).
uint32_t HeaderCheck(std::string_view length_bytes);
}  // namespace wal

class WalWriter {
 public:
  // Appends to file, which should be new and empty (FileSize() counts from its current Size()).
  explicit WalWriter(std::unique_ptr<WritableFile> file);
  // Closes the file if Close() was not called (ignoring errors: call Close() to see them).
  ~WalWriter();
  WalWriter(const WalWriter&) = delete;
  WalWriter& operator=(const WalWriter&) = delete;

  // Appends one record holding payload (may be empty) and Flush()es it to the OS, so it survives a
  // process crash once this returns OK. Not durable against power loss until Sync().
  // Errors: InvalidArgument (nothing written) when payload is longer than wal::kMaxPayloadSize or
  // the writer is closed; otherwise the file's I/O error, which then sticks (see above).
  Status AddRecord(std::string_view payload);

  // Makes every record added so far durable. A failure sticks.
  Status Sync();

  // Closes the file (after which AddRecord and Sync fail). Does not sync. Idempotent.
  Status Close();

  // Bytes of the log so far (every record appended, header included).
  uint64_t FileSize() const { return file_->Size(); }

 private:
  std::unique_ptr<WritableFile> file_;
  Status error_;  // the sticky error, if any
  bool closed_ = false;
};

}  // namespace keyva
