// WriteBatch: a group of puts and deletes applied atomically (all or none, one WAL record).
//
// Its representation is exactly the WAL record payload:
//   fixed64 first sequence number, fixed32 count,
//   count x { byte type (0 delete, 1 value), varint32-prefixed key, [varint32-prefixed value] }
// where a value is the stored form of value_format.h (metadata + bytes). The i-th entry gets
// sequence first + i.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "internal/engine/db/dbformat.h"
#include "internal/engine/status.h"
#include "internal/engine/value_format.h"

namespace keyva {

class WriteBatch {
 public:
  WriteBatch();

  void Put(std::string_view key, std::string_view value, const ValueMeta& meta = {});
  // Stores an already-encoded stored value (value_format.h).
  void PutStored(std::string_view key, std::string_view stored_value);
  void Delete(std::string_view key);
  void Clear();
  // Appends every entry of other.
  void Append(const WriteBatch& other);

  uint32_t Count() const;
  bool Empty() const { return Count() == 0; }

  // Visits each entry in order; stops early and returns the callback's error when it fails.
  // Returns Corruption if the representation is malformed.
  using Visitor =
      std::function<Status(ValueType type, std::string_view key, std::string_view stored_value)>;
  Status Iterate(const Visitor& visit) const;

  // Low-level access for the WAL and recovery.
  SequenceNumber Sequence() const;
  void SetSequence(SequenceNumber seq);
  std::string_view Contents() const { return rep_; }
  // Replaces the contents with a WAL payload; Corruption if it is too short to be one.
  Status SetContents(std::string_view contents);

  static constexpr size_t kHeaderSize = 12;

 private:
  void SetCount(uint32_t n);
  std::string rep_;
};

}  // namespace keyva
