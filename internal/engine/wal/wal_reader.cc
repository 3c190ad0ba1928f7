#include "internal/engine/wal/wal_reader.h"

#include <algorithm>
#include <cstring>

#include "internal/engine/util/coding.h"
#include "internal/engine/util/hash.h"
#include "internal/engine/wal/wal_writer.h"

namespace keyva {

WalReader::WalReader(std::unique_ptr<SequentialFile> file, std::string file_name)
    : file_(std::move(file)), file_name_(std::move(file_name)), buf_(new char[kBufferSize]) {}

bool WalReader::Fail(Status s) {
  status_ = std::move(s);
  done_ = true;
  return false;
}

bool WalReader::ReadFile(char* dst, size_t n, size_t* got) {
  *got = 0;
  while (*got < n && !eof_) {
    std::string_view result;
    Status s = file_->Read(n - *got, &result, dst + *got);
    if (!s.ok()) return Fail(std::move(s));
    if (result.data() != dst + *got && !result.empty()) {
      std::memmove(dst + *got, result.data(), result.size());
    }
    if (result.size() < n - *got) eof_ = true;  // a short read means the end of the file
    *got += result.size();
  }
  return true;
}

bool WalReader::FillBuffer(size_t n) {
  if (Available() >= n || eof_) return true;
  // Move the unconsumed bytes to the front, then fill the rest of the buffer.
  size_t avail = Available();
  std::memmove(buf_.get(), buf_.get() + buf_pos_, avail);
  buf_pos_ = 0;
  buf_end_ = avail;
  size_t got;
  if (!ReadFile(buf_.get() + buf_end_, kBufferSize - buf_end_, &got)) return false;
  buf_end_ += got;
  return true;
}

bool WalReader::ReadPayload(uint32_t len, std::string* record, bool* complete) {
  if (len <= kBufferSize) {
    if (!FillBuffer(len)) return false;
    size_t take = std::min<size_t>(len, Available());
    record->assign(buf_.get() + buf_pos_, take);
    Consume(take);
    *complete = take == len;
    return true;
  }
  // Larger than the buffer: read straight into *record, growing it only as bytes arrive.
  size_t have = Available();
  record->assign(buf_.get() + buf_pos_, have);
  Consume(have);
  while (record->size() < len && !eof_) {
    size_t old = record->size();
    size_t target = std::min<size_t>(len, std::max(2 * old, old + kBufferSize));
    record->resize(target);
    size_t got;
    if (!ReadFile(record->data() + old, target - old, &got)) return false;
    record->resize(old + got);
    offset_ += got;
  }
  *complete = record->size() == len;
  return true;
}

bool WalReader::RestIsZero(bool* zero) {
  auto all_zero = [](const char* p, size_t n) {
    return std::all_of(p, p + n, [](char c) { return c == 0; });
  };
  *zero = false;
  while (true) {
    if (!all_zero(buf_.get() + buf_pos_, Available())) return true;
    Consume(Available());
    if (eof_) break;
    if (!FillBuffer(kBufferSize)) return false;
  }
  *zero = true;
  return true;
}

bool WalReader::ReadRecord(std::string* record) {
  record->clear();
  if (done_) return false;
  const uint64_t start = offset_;
  if (!FillBuffer(wal::kHeaderSize)) return false;
  if (Available() == 0) {  // a clean end
    done_ = true;
    return false;
  }
  if (Available() < wal::kHeaderSize) return TornTail();  // the file ends inside the header

  const char* header = buf_.get() + buf_pos_;
  const uint32_t stored_checksum = DecodeFixed32(header);
  const uint32_t len = DecodeFixed32(header + 4);
  char len_bytes[4];
  std::memcpy(len_bytes, header + 4, 4);
  if (DecodeFixed32(header + 8) != wal::HeaderCheck(std::string_view(len_bytes, 4))) {
    // The length cannot be trusted, so neither can the record's end: this is a torn tail only
    // when nothing but zeros follows the header (zero-filled or preallocated space, or a final
    // header that straddled a page boundary and kept only its first part). Non-zero bytes after
    // it may be acknowledged records, so they make it Corruption.
    Consume(wal::kHeaderSize);
    bool zero;
    if (!RestIsZero(&zero)) return false;
    if (zero) return TornTail();
    return Fail(Status::Corruption(file_name_ + ": corrupt record header at offset " +
                                   std::to_string(start)));
  }
  Consume(wal::kHeaderSize);
  bool complete;
  if (!ReadPayload(len, record, &complete)) {
    record->clear();
    return false;
  }
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
  // Fuzz builds: a mutated payload reaches the batch and edit decoders (the header check stays).
  const bool checksum_ok = true;
  (void)stored_checksum;
#else
  const bool checksum_ok = Checksum32(std::string_view(len_bytes, 4), *record) == stored_checksum;
#endif
  if (complete && checksum_ok) {
    valid_bytes_ = offset_;
    return true;
  }
  record->clear();
  // A trusted length whose payload runs past the end of the file: a partial final write.
  if (!complete) return TornTail();
  // A checksum mismatch: torn if only zeros (or nothing) follow its claimed end.
  bool zero;
  if (!RestIsZero(&zero)) return false;
  if (zero) return TornTail();
  return Fail(Status::Corruption(file_name_ + ": corrupt record at offset " +
                                 std::to_string(start) + ": checksum mismatch (length " +
                                 std::to_string(len) + ", followed by non-zero data)"));
}

bool WalReader::TornTail() {
  torn_tail_ = true;
  done_ = true;
  return false;
}

}  // namespace keyva
