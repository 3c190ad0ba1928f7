#include "internal/engine/wal/wal_writer.h"

#include "internal/engine/util/coding.h"
#include "internal/engine/util/hash.h"

namespace keyva {

uint32_t wal::HeaderCheck(std::string_view length_bytes) {
  return Checksum32(length_bytes) ^ kHeaderCheckMask;
}

WalWriter::WalWriter(std::unique_ptr<WritableFile> file) : file_(std::move(file)) {}

WalWriter::~WalWriter() {
  if (!closed_) (void)Close();
}

Status WalWriter::AddRecord(std::string_view payload) {
  if (closed_) return Status::InvalidArgument("WAL writer is closed");
  if (!error_.ok()) return error_;
  if (payload.size() > wal::kMaxPayloadSize) {
    return Status::InvalidArgument("WAL record of " + std::to_string(payload.size()) +
                                   " bytes is larger than the format allows");
  }
  char header[wal::kHeaderSize];
  const std::string_view length_bytes(header + 4, 4);
  EncodeFixed32(header + 4, static_cast<uint32_t>(payload.size()));
  EncodeFixed32(header, Checksum32(length_bytes, payload));
  EncodeFixed32(header + 8, wal::HeaderCheck(length_bytes));
  Status s = file_->Append(std::string_view(header, sizeof(header)));
  if (s.ok()) s = file_->Append(payload);
  if (s.ok()) s = file_->Flush();
  if (!s.ok()) error_ = s;
  return s;
}

Status WalWriter::Sync() {
  if (closed_) return Status::InvalidArgument("WAL writer is closed");
  if (!error_.ok()) return error_;
  Status s = file_->Sync();
  if (!s.ok()) error_ = s;
  return s;
}

Status WalWriter::Close() {
  if (closed_) return Status::OK();
  closed_ = true;
  return file_->Close();
}

}  // namespace keyva
