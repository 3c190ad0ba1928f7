// Iterator: a forward cursor over sorted key/value pairs.
//
// Used both for internal iterators (keys are internal keys, see dbformat.h: memtable, SST blocks,
// merging) and for the user-facing DB iterator (keys are user keys). keyva iterates forward only:
// listings page forward with an "after" cursor, so no Prev/SeekToLast exists.
//
// key() and value() stay valid until the next call that moves the iterator.
// An iterator is used by one thread at a time.
#pragma once

#include <memory>
#include <string_view>

#include "internal/engine/status.h"

namespace keyva {

class Iterator {
 public:
  virtual ~Iterator() = default;
  virtual bool Valid() const = 0;
  virtual void SeekToFirst() = 0;
  // Positions at the first entry with key >= target.
  virtual void Seek(std::string_view target) = 0;
  // REQUIRES: Valid().
  virtual void Next() = 0;
  virtual std::string_view key() const = 0;
  virtual std::string_view value() const = 0;
  // Non-OK when the iterator stopped because of an error (then Valid() is false).
  virtual Status status() const = 0;
};

// An iterator over nothing, possibly carrying an error.
std::unique_ptr<Iterator> NewEmptyIterator(Status status = Status::OK());

}  // namespace keyva
