#include "internal/engine/write_batch.h"

#include "internal/engine/util/coding.h"

namespace keyva {

WriteBatch::WriteBatch() { Clear(); }

void WriteBatch::Clear() { rep_.assign(kHeaderSize, '\0'); }

uint32_t WriteBatch::Count() const { return DecodeFixed32(rep_.data() + 8); }
void WriteBatch::SetCount(uint32_t n) { EncodeFixed32(&rep_[8], n); }
SequenceNumber WriteBatch::Sequence() const { return DecodeFixed64(rep_.data()); }
void WriteBatch::SetSequence(SequenceNumber seq) { EncodeFixed64(&rep_[0], seq); }

void WriteBatch::Put(std::string_view key, std::string_view value, const ValueMeta& meta) {
  SetCount(Count() + 1);
  rep_.push_back(static_cast<char>(ValueType::kValue));
  PutLengthPrefixed(&rep_, key);
  std::string stored;
  stored.reserve(value.size() + meta.content_type.size() + 24);
  EncodeStoredValue(&stored, meta, value);
  PutLengthPrefixed(&rep_, stored);
}

void WriteBatch::PutStored(std::string_view key, std::string_view stored_value) {
  SetCount(Count() + 1);
  rep_.push_back(static_cast<char>(ValueType::kValue));
  PutLengthPrefixed(&rep_, key);
  PutLengthPrefixed(&rep_, stored_value);
}

void WriteBatch::Delete(std::string_view key) {
  SetCount(Count() + 1);
  rep_.push_back(static_cast<char>(ValueType::kDeletion));
  PutLengthPrefixed(&rep_, key);
}

void WriteBatch::Append(const WriteBatch& other) {
  SetCount(Count() + other.Count());
  rep_.append(other.rep_, kHeaderSize, std::string::npos);
}

Status WriteBatch::SetContents(std::string_view contents) {
  if (contents.size() < kHeaderSize) return Status::Corruption("write batch is too short");
  rep_.assign(contents.data(), contents.size());
  return Status::OK();
}

Status WriteBatch::Iterate(const Visitor& visit) const {
  std::string_view in(rep_);
  in.remove_prefix(kHeaderSize);
  uint32_t found = 0;
  while (!in.empty()) {
    auto type = static_cast<uint8_t>(in[0]);
    in.remove_prefix(1);
    std::string_view key, value;
    if (!GetLengthPrefixed(&in, &key)) return Status::Corruption("bad key in write batch");
    if (type == static_cast<uint8_t>(ValueType::kValue)) {
      if (!GetLengthPrefixed(&in, &value)) return Status::Corruption("bad value in write batch");
    } else if (type != static_cast<uint8_t>(ValueType::kDeletion)) {
      return Status::Corruption("unknown entry type in write batch");
    }
    found++;
    Status s = visit(static_cast<ValueType>(type), key, value);
    if (!s.ok()) return s;
  }
  if (found != Count()) return Status::Corruption("write batch count does not match its entries");
  return Status::OK();
}

}  // namespace keyva
