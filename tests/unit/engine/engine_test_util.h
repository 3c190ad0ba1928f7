// Helpers the engine's unit tests share.
#pragma once

#include <catch2/catch.hpp>
#include <cstdio>
#include <string>

#include "internal/engine/db.h"

namespace keyva::test {

// The value at key, or otherwise when there is none (any other status fails the test).
inline std::string GetOr(DB* db, const std::string& key,
                         const std::string& otherwise = "<absent>") {
  std::string v;
  ValueMeta m;
  Status s = db->Get(ReadOptions(), key, &v, &m);
  if (s.IsNotFound()) return otherwise;
  INFO(s.ToString());
  REQUIRE(s.ok());
  return v;
}

// "key000042": keys that sort in numeric order.
inline std::string NumberedKey(int i) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "key%06d", i);
  return buf;
}

}  // namespace keyva::test
