// RetentionFilter: decides which versions of each key survive when entries are rewritten (a
// memtable flush, an in-memory memtable rewrite, or a compaction).
//
// Feed it entries in internal-key order (newest version of a key first). The snapshots split
// sequence numbers into stripes: stripe i holds sequences in (snapshot[i-1], snapshot[i]], and the
// last stripe everything newer than the newest snapshot. A reader at any snapshot (or at "now")
// sees only the newest version within its stripe or older, so within one stripe only the newest
// version of a key is needed; older ones are dropped. At the bottommost level, a tombstone in the
// oldest stripe shadows nothing anymore and is dropped too, as is an expired value there. Above the
// bottom, an expired value in the oldest stripe is turned into a tombstone (it still shadows older
// versions below, but its bytes are gone).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "internal/engine/db/dbformat.h"

namespace keyva {

class RetentionFilter {
 public:
  enum class Decision { kKeep, kDrop, kKeepAsTombstone };

  // snapshots: live snapshot sequence numbers, ascending. now_us: wall clock for expiry (0: values
  // never count as expired, e.g. for the memtable rewrite).
  RetentionFilter(std::vector<SequenceNumber> snapshots, bool bottommost, int64_t now_us);

  Decision Decide(const ParsedInternalKey& key, std::string_view stored_value);

 private:
  size_t StripeOf(SequenceNumber seq) const;

  std::vector<SequenceNumber> snapshots_;
  bool bottommost_;
  int64_t now_us_;
  std::string current_user_key_;
  bool has_current_ = false;
  size_t last_stripe_ = 0;
};

}  // namespace keyva
