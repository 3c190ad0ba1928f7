#include "internal/engine/util/coding.h"

#include <catch2/catch.hpp>
#include <limits>

#include "internal/engine/status.h"
#include "internal/engine/write_batch.h"

namespace keyva {

TEST_CASE("varints round-trip at every width", "[coding]") {
  std::string buf;
  std::vector<uint64_t> values;
  for (int shift = 0; shift < 64; shift++) {
    values.push_back(uint64_t{1} << shift);
    values.push_back((uint64_t{1} << shift) - 1);
  }
  values.push_back(std::numeric_limits<uint64_t>::max());
  for (uint64_t v : values) PutVarint64(&buf, v);
  std::string_view in(buf);
  for (uint64_t v : values) {
    uint64_t got;
    REQUIRE(GetVarint64(&in, &got));
    CHECK(got == v);
  }
  CHECK(in.empty());
}

TEST_CASE("truncated and overlong varints are rejected", "[coding]") {
  std::string buf;
  PutVarint64(&buf, std::numeric_limits<uint64_t>::max());
  for (size_t len = 0; len < buf.size(); len++) {
    std::string_view in(buf.data(), len);
    uint64_t v;
    CHECK_FALSE(GetVarint64(&in, &v));
  }
  std::string overlong(11, '\xff');
  std::string_view in(overlong);
  uint64_t v;
  CHECK_FALSE(GetVarint64(&in, &v));
  std::string too_big_for_32;
  PutVarint64(&too_big_for_32, uint64_t{1} << 32);
  std::string_view in32(too_big_for_32);
  uint32_t v32;
  CHECK_FALSE(GetVarint32(&in32, &v32));
}

TEST_CASE("fixed-width integers are little-endian", "[coding]") {
  std::string buf;
  PutFixed32(&buf, 0x04030201);
  PutFixed64(&buf, 0x0807060504030201ull);
  CHECK(buf.substr(0, 4) == std::string("\x01\x02\x03\x04", 4));
  CHECK(DecodeFixed64(buf.data() + 4) == 0x0807060504030201ull);
}

TEST_CASE("length-prefixed strings reject a length past the end", "[coding]") {
  std::string buf;
  PutLengthPrefixed(&buf, "hello");
  std::string_view in(buf.data(), buf.size() - 1);
  std::string_view out;
  CHECK_FALSE(GetLengthPrefixed(&in, &out));
}

TEST_CASE("status kinds and messages", "[status]") {
  CHECK(Status::OK().ok());
  CHECK(Status::OK().ToString() == "OK");
  Status s = Status::Corruption("bad block");
  CHECK(s.IsCorruption());
  CHECK(s.ToString() == "Corruption: bad block");
  Status copy = s;
  CHECK(copy.message() == "bad block");
  CHECK(Status::FromErrno("write x", ENOSPC).IsNoSpace());
  CHECK(Status::FromErrno("write x", EIO).code() == Status::Code::kIOError);
}

TEST_CASE("write batch keeps entries, order and metadata", "[write_batch]") {
  WriteBatch b;
  ValueMeta meta{"text/plain", 123, 456};
  b.Put("a", "1", meta);
  b.Delete("b");
  b.Put("c", "");
  b.SetSequence(77);
  CHECK(b.Count() == 3);
  CHECK(b.Sequence() == 77);
  std::vector<std::string> seen;
  REQUIRE(b.Iterate([&](ValueType t, std::string_view k, std::string_view v) {
             std::string line(k);
             if (t == ValueType::kValue) {
               ValueMeta m;
               std::string_view bytes;
               REQUIRE(DecodeStoredValue(v, &m, &bytes));
               line += "=" + std::string(bytes) + ";" + m.content_type + ";" +
                       std::to_string(m.modified_us) + ";" + std::to_string(m.expires_us);
             } else {
               line += " deleted";
             }
             seen.push_back(line);
             return Status::OK();
           }).ok());
  CHECK(seen == std::vector<std::string>{"a=1;text/plain;123;456", "b deleted", "c=;;0;0"});

  WriteBatch copy;
  REQUIRE(copy.SetContents(b.Contents()).ok());
  CHECK(copy.Count() == 3);
  WriteBatch truncated;
  REQUIRE(truncated.SetContents(b.Contents().substr(0, b.Contents().size() - 2)).ok());
  CHECK(
      truncated.Iterate([](ValueType, std::string_view, std::string_view) { return Status::OK(); })
          .IsCorruption());
}

}  // namespace keyva
