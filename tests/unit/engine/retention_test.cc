#include "internal/engine/db/retention.h"

#include <catch2/catch.hpp>

#include "internal/engine/value_format.h"

namespace keyva {
namespace {

using D = RetentionFilter::Decision;

ParsedInternalKey K(std::string_view user, SequenceNumber seq, ValueType t = ValueType::kValue) {
  ParsedInternalKey k;
  k.user_key = user;
  k.sequence = seq;
  k.type = t;
  return k;
}

std::string Stored(int64_t expires) {
  std::string s;
  EncodeStoredValue(&s, ValueMeta{"", 1, expires}, "v");
  return s;
}

}  // namespace

TEST_CASE("without snapshots only the newest version of a key survives", "[retention]") {
  RetentionFilter f({}, false, 0);
  CHECK(f.Decide(K("a", 9), Stored(0)) == D::kKeep);
  CHECK(f.Decide(K("a", 5), Stored(0)) == D::kDrop);
  CHECK(f.Decide(K("a", 1, ValueType::kDeletion), "") == D::kDrop);
  CHECK(f.Decide(K("b", 3), Stored(0)) == D::kKeep);
}

TEST_CASE("a snapshot keeps the newest version it can see", "[retention]") {
  RetentionFilter f({5}, false, 0);
  CHECK(f.Decide(K("a", 9), Stored(0)) == D::kKeep);  // newest
  CHECK(f.Decide(K("a", 7), Stored(0)) == D::kDrop);  // same stripe as 9
  CHECK(f.Decide(K("a", 4), Stored(0)) == D::kKeep);  // what snapshot 5 sees
  CHECK(f.Decide(K("a", 2), Stored(0)) == D::kDrop);
}

TEST_CASE("tombstones go only at the bottom and only when no snapshot needs them", "[retention]") {
  RetentionFilter above({}, false, 0);
  CHECK(above.Decide(K("a", 3, ValueType::kDeletion), "") == D::kKeep);
  RetentionFilter bottom({}, true, 0);
  CHECK(bottom.Decide(K("a", 3, ValueType::kDeletion), "") == D::kDrop);
  CHECK(bottom.Decide(K("a", 2), Stored(0)) == D::kDrop);  // shadowed by the tombstone
  RetentionFilter pinned({1}, true, 0);
  CHECK(pinned.Decide(K("a", 3, ValueType::kDeletion), "") == D::kKeep);  // snapshot 1 is older
  CHECK(pinned.Decide(K("a", 1), Stored(0)) == D::kKeep);
}

TEST_CASE("expired values become tombstones above the bottom and vanish at it", "[retention]") {
  RetentionFilter above({}, false, 1000);
  CHECK(above.Decide(K("a", 3), Stored(500)) == D::kKeepAsTombstone);
  CHECK(above.Decide(K("b", 3), Stored(5000)) == D::kKeep);
  RetentionFilter bottom({}, true, 1000);
  CHECK(bottom.Decide(K("a", 3), Stored(500)) == D::kDrop);
  RetentionFilter no_clock({}, true, 0);
  CHECK(no_clock.Decide(K("a", 3), Stored(500)) == D::kKeep);
}

}  // namespace keyva
