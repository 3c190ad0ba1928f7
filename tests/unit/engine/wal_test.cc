// WAL tests: round trips, truncation at every length, every byte flipped, every length bit flipped,
// zero-filled tails, corruption in the middle, bounded memory for garbage lengths, sticky writer
// errors, I/O errors.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "internal/engine/testing/fault_env.h"
#include "internal/engine/util/coding.h"
#include "internal/engine/util/hash.h"
#include "internal/engine/wal/wal_reader.h"
#include "internal/engine/wal/wal_writer.h"
#include "tests/util/test_util.h"

namespace keyva {
namespace {

const std::string kLog = "db/000012.log";

// Payload bytes that are never all zero and differ from record to record.
std::string Payload(size_t size, uint64_t salt) {
  std::string s(size, '\0');
  uint64_t x = salt * 0x9E3779B97F4A7C15ull + 1;
  for (size_t i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    s[i] = static_cast<char>('a' + x % 26);
  }
  return s;
}

void WriteLog(FaultEnv* env, const std::string& name, const std::vector<std::string>& records) {
  std::unique_ptr<WritableFile> file;
  REQUIRE(env->NewWritableFile(name, &file).ok());
  WalWriter writer(std::move(file));
  for (const auto& r : records) REQUIRE(writer.AddRecord(r).ok());
  REQUIRE(writer.Sync().ok());
  REQUIRE(writer.Close().ok());
}

struct ReadResult {
  std::vector<std::string> records;
  Status status;
  bool torn = false;
  uint64_t valid_bytes = 0;
};

ReadResult ReadFrom(std::unique_ptr<SequentialFile> file, const std::string& name) {
  WalReader reader(std::move(file), name);
  ReadResult r;
  std::string record;
  while (reader.ReadRecord(&record)) r.records.push_back(record);
  CHECK(record.empty());
  CHECK_FALSE(reader.ReadRecord(&record));  // stays finished
  r.status = reader.status();
  r.torn = reader.torn_tail();
  r.valid_bytes = reader.valid_bytes();
  return r;
}

ReadResult ReadLog(FaultEnv* env, const std::string& name) {
  std::unique_ptr<SequentialFile> file;
  REQUIRE(env->NewSequentialFile(name, &file).ok());
  return ReadFrom(std::move(file), name);
}

// The header check as the format defines it, computed here independently of the writer.
uint32_t ExpectedHeaderCheck(std::string_view length_bytes) {
  return Checksum32(length_bytes) ^ 0x6b657976u;
}

// A record header (checksum, length, header check) with a valid header check.
std::string Header(uint32_t checksum, uint32_t length) {
  char h[12];
  EncodeFixed32(h, checksum);
  EncodeFixed32(h + 4, length);
  EncodeFixed32(h + 8, ExpectedHeaderCheck(std::string_view(h + 4, 4)));
  return std::string(h, sizeof(h));
}

std::string HeaderCorruption(const std::string& name, uint64_t offset) {
  return name + ": corrupt record header at offset " + std::to_string(offset);
}

// Offsets at which each record starts, plus the end of the log.
std::vector<uint64_t> RecordOffsets(const std::vector<std::string>& records) {
  std::vector<uint64_t> offsets = {0};
  for (const auto& r : records) offsets.push_back(offsets.back() + wal::kHeaderSize + r.size());
  return offsets;
}

// A SequentialFile over a string that answers with views into its own memory (allowed by the
// SequentialFile contract) and remembers how much it was asked for.
class StringFile final : public SequentialFile {
 public:
  explicit StringFile(std::string data) : data_(std::move(data)) {}
  Status Read(size_t n, std::string_view* result, char* scratch) override {
    size_t take = std::min(n, data_.size() - pos_);
    *result = std::string_view(data_).substr(pos_, take);
    pos_ += take;
    return Status::OK();
  }

 private:
  std::string data_;
  size_t pos_ = 0;
};

}  // namespace

TEST_CASE("wal: an empty log has no records and a clean end", "[wal]") {
  FaultEnv env;
  REQUIRE(env.CreateDir("db").ok());
  WriteLog(&env, kLog, {});
  ReadResult r = ReadLog(&env, kLog);
  CHECK(r.records.empty());
  CHECK(r.status.ok());
  CHECK_FALSE(r.torn);
  CHECK(r.valid_bytes == 0);
}

TEST_CASE("wal: record layout is checksum, length, header check, payload", "[wal]") {
  FaultEnv env;
  REQUIRE(env.CreateDir("db").ok());
  WriteLog(&env, kLog, {"hello", ""});
  std::string raw;
  REQUIRE(env.ReadRaw(kLog, &raw).ok());
  REQUIRE(wal::kHeaderSize == 12);
  REQUIRE(raw.size() == 12 + 5 + 12);
  CHECK(DecodeFixed32(raw.data() + 4) == 5);
  CHECK(DecodeFixed32(raw.data()) == Checksum32(raw.substr(4, 4), "hello"));
  CHECK(DecodeFixed32(raw.data() + 8) == ExpectedHeaderCheck(raw.substr(4, 4)));
  CHECK(raw.substr(12, 5) == "hello");
  CHECK(raw.substr(17, 12) == Header(Checksum32(std::string(4, '\0'), ""), 0));
  CHECK(wal::HeaderCheck(raw.substr(4, 4)) == ExpectedHeaderCheck(raw.substr(4, 4)));
  // An all-zero header is never a valid (empty) record, so zero-filled space cannot pass as one:
  // both its header check and its payload checksum fail.
  CHECK(ExpectedHeaderCheck(std::string(4, '\0')) != 0);
  CHECK(Checksum32(std::string(4, '\0'), "") != 0);
}

TEST_CASE("wal: round trip of many records of random sizes", "[wal]") {
  const uint64_t seed = test::PrintedTestSeed("wal_test");
  INFO("KEYVA_TEST_SEED=" << seed);
  std::mt19937_64 rng(seed);
  FaultEnv env;
  REQUIRE(env.CreateDir("db").ok());
  // Sizes around the reader's 256 KiB buffer and the extremes, then random ones, mostly small.
  std::vector<size_t> sizes = {
      0, 1, 7, 8, 9, 11, 12, 13, 262143, 262144, 262145, 1 << 20, 0, (1 << 20) - 1, 300000, 5};
  // Never below its scale-1 size (cheap even under the sanitizers); KEYVA_TEST_SCALE > 1 grows it.
  const int n = test::Scaled(400, 400);
  for (int i = 0; i < n; i++) {
    int kind = static_cast<int>(rng() % 100);
    size_t size = kind < 80 ? rng() % 200 : (kind < 97 ? rng() % 20000 : rng() % ((1 << 20) + 1));
    sizes.push_back(size);
  }
  std::vector<std::string> records;
  for (size_t i = 0; i < sizes.size(); i++) records.push_back(Payload(sizes[i], i));

  std::unique_ptr<WritableFile> file;
  REQUIRE(env.NewWritableFile(kLog, &file).ok());
  WalWriter writer(std::move(file));
  uint64_t expected_size = 0;
  for (const auto& r : records) {
    REQUIRE(writer.AddRecord(r).ok());
    expected_size += wal::kHeaderSize + r.size();
    REQUIRE(writer.FileSize() == expected_size);
  }
  REQUIRE(writer.Close().ok());

  ReadResult r = ReadLog(&env, kLog);
  CHECK(r.status.ok());
  CHECK_FALSE(r.torn);
  CHECK(r.valid_bytes == expected_size);
  REQUIRE(r.records.size() == records.size());
  for (size_t i = 0; i < records.size(); i++) {
    if (r.records[i] != records[i])
      FAIL("record " << i << " of " << records[i].size() << " bytes differs");
  }

  // The same bytes through a file that answers with views into its own memory.
  std::string raw;
  REQUIRE(env.ReadRaw(kLog, &raw).ok());
  ReadResult r2 = ReadFrom(std::make_unique<StringFile>(raw), kLog);
  CHECK(r2.status.ok());
  CHECK(r2.records == records);
}

TEST_CASE("wal: a log cut at every length yields the complete records before the cut", "[wal]") {
  FaultEnv env;
  REQUIRE(env.CreateDir("db").ok());
  std::vector<std::string> records;
  for (size_t size : {0, 1, 17, 100, 8, 0, 255, 256, 3, 1000}) {
    records.push_back(Payload(size, records.size()));
  }
  WriteLog(&env, kLog, records);
  std::string full;
  REQUIRE(env.ReadRaw(kLog, &full).ok());
  std::vector<uint64_t> offsets = RecordOffsets(records);
  REQUIRE(offsets.back() == full.size());

  for (size_t cut = 0; cut <= full.size(); cut++) {
    INFO("cut at " << cut);
    REQUIRE(env.WriteRaw(kLog, full.substr(0, cut)).ok());
    ReadResult r = ReadLog(&env, kLog);
    size_t complete = std::upper_bound(offsets.begin(), offsets.end(), cut) - offsets.begin() - 1;
    REQUIRE(r.status.ok());
    REQUIRE(r.records.size() == complete);
    for (size_t i = 0; i < complete; i++) REQUIRE(r.records[i] == records[i]);
    REQUIRE(r.valid_bytes == offsets[complete]);
    REQUIRE(r.torn == (cut != offsets[complete]));
  }
}

TEST_CASE("wal: a large record cut anywhere is a torn tail", "[wal]") {
  FaultEnv env;
  REQUIRE(env.CreateDir("db").ok());
  // Larger than the reader's buffer, so the payload is read straight into the record.
  std::vector<std::string> records = {Payload(10, 1), Payload(700000, 2)};
  WriteLog(&env, kLog, records);
  std::string full;
  REQUIRE(env.ReadRaw(kLog, &full).ok());
  const size_t start = wal::kHeaderSize + 10;
  std::vector<size_t> cuts = {start + 1,  start + 4,  start + 8,      start + 11,
                              start + 12, start + 13, full.size() - 1};
  for (size_t cut = start + 12; cut < full.size(); cut += 65537) cuts.push_back(cut);
  cuts.push_back(start);  // exactly after the first record: a clean end
  for (size_t cut : cuts) {
    INFO("cut at " << cut);
    REQUIRE(env.WriteRaw(kLog, full.substr(0, cut)).ok());
    ReadResult r = ReadLog(&env, kLog);
    CHECK(r.status.ok());
    CHECK(r.torn == (cut != start));
    REQUIRE(r.records.size() == 1);
    CHECK(r.records[0] == records[0]);
    CHECK(r.valid_bytes == start);
  }
}

TEST_CASE("wal: flipping any byte never yields a wrong record", "[wal]") {
  FaultEnv env;
  REQUIRE(env.CreateDir("db").ok());
  std::vector<std::string> records = {Payload(20, 1), Payload(0, 2), Payload(33, 3)};
  WriteLog(&env, kLog, records);
  std::string good;
  REQUIRE(env.ReadRaw(kLog, &good).ok());
  std::vector<uint64_t> offsets = RecordOffsets(records);

  for (size_t pos = 0; pos < good.size(); pos++) {
    for (unsigned char mask : {0x01, 0x80, 0xff, 0x10}) {
      INFO("byte " << pos << " xor " << int(mask));
      std::string bad = good;
      bad[pos] = static_cast<char>(bad[pos] ^ mask);
      REQUIRE(env.WriteRaw(kLog, bad).ok());
      ReadResult r = ReadLog(&env, kLog);

      // Whatever comes back is a correct prefix of the log.
      REQUIRE(r.records.size() < records.size());
      for (size_t i = 0; i < r.records.size(); i++) REQUIRE(r.records[i] == records[i]);
      REQUIRE((r.torn || r.status.IsCorruption()));
      REQUIRE_FALSE((r.torn && !r.status.ok()));

      // And exactly as the rules say: the damaged record i is where reading stops. A damaged
      // length or header check fails the header check: corruption, since non-zero bytes follow
      // (even in the last record). A damaged payload checksum or payload is a torn tail in the
      // last record (nothing follows its end) and corruption before it.
      size_t i = std::upper_bound(offsets.begin(), offsets.end(), pos) - offsets.begin() - 1;
      const size_t in_record = pos - offsets[i];
      CHECK(r.records.size() == i);
      CHECK(r.valid_bytes == offsets[i]);
      if (in_record >= 4 && in_record < wal::kHeaderSize) {
        CHECK_FALSE(r.torn);
        CHECK(r.status.message() == HeaderCorruption(kLog, offsets[i]));
      } else {
        bool expect_torn = i == records.size() - 1;
        CHECK(r.torn == expect_torn);
        if (!expect_torn) {
          CHECK(r.status.message() ==
                kLog + ": corrupt record at offset " + std::to_string(offsets[i]) +
                    ": checksum mismatch (length " + std::to_string(records[i].size()) +
                    ", followed by non-zero data)");
        }
      }
    }
  }
}

TEST_CASE("wal: flipping any bit of a length is corruption, never a torn tail", "[wal]") {
  // Without the header check, a length flipped to run past the end of the file would read as a
  // torn tail and silently drop every record after it.
  FaultEnv env;
  REQUIRE(env.CreateDir("db").ok());
  std::vector<std::string> records = {Payload(20, 1), Payload(0, 2), Payload(33, 3)};
  WriteLog(&env, kLog, records);
  std::string good;
  REQUIRE(env.ReadRaw(kLog, &good).ok());
  std::vector<uint64_t> offsets = RecordOffsets(records);

  int past_end = 0;  // flips whose length runs past the end of the file
  for (size_t i = 0; i < records.size(); i++) {
    for (size_t bit = 0; bit < 32; bit++) {
      INFO("record " << i << ", length bit " << bit);
      std::string bad = good;
      const size_t pos = offsets[i] + 4 + bit / 8;
      bad[pos] = static_cast<char>(bad[pos] ^ (1 << (bit % 8)));
      if (offsets[i] + wal::kHeaderSize + DecodeFixed32(bad.data() + offsets[i] + 4) > bad.size()) {
        past_end++;
      }
      REQUIRE(env.WriteRaw(kLog, bad).ok());
      ReadResult r = ReadLog(&env, kLog);
      CHECK(r.status.IsCorruption());
      CHECK(r.status.message() == HeaderCorruption(kLog, offsets[i]));
      CHECK_FALSE(r.torn);
      CHECK(r.records == std::vector<std::string>(records.begin(), records.begin() + i));
      CHECK(r.valid_bytes == offsets[i]);
    }
  }
  CHECK(past_end > 60);  // the case the header check exists for is well covered
}

TEST_CASE("wal: a zero-filled tail is a torn tail", "[wal]") {
  FaultEnv env;
  REQUIRE(env.CreateDir("db").ok());
  std::vector<std::string> records = {Payload(50, 1), Payload(0, 2), Payload(70, 3)};
  WriteLog(&env, kLog, records);
  std::string good;
  REQUIRE(env.ReadRaw(kLog, &good).ok());
  std::vector<uint64_t> offsets = RecordOffsets(records);

  SECTION("zeros after the last record") {
    for (size_t zeros : {1, 4, 7, 8, 9, 11, 12, 13, 100, 4096, 300000}) {
      INFO(zeros << " zero bytes");
      REQUIRE(env.WriteRaw(kLog, good + std::string(zeros, '\0')).ok());
      ReadResult r = ReadLog(&env, kLog);
      CHECK(r.status.ok());
      CHECK(r.torn);
      CHECK(r.records == records);
      CHECK(r.valid_bytes == good.size());
    }
  }
  SECTION("a file of zeros only") {
    REQUIRE(env.WriteRaw(kLog, std::string(100000, '\0')).ok());
    ReadResult r = ReadLog(&env, kLog);
    CHECK(r.status.ok());
    CHECK(r.torn);
    CHECK(r.records.empty());
    CHECK(r.valid_bytes == 0);
  }
  SECTION("zeros over the end of the last record, and beyond") {
    // The last record's tail never reached the disk, and the file was extended with zeros. Its
    // header either is intact (the payload checksum fails, zeros follow its end) or is all zero.
    for (size_t keep : {offsets[2], offsets[2] + 12, offsets[2] + 13, offsets[2] + 40}) {
      for (size_t zeros : {size_t{0}, size_t{100}, size_t{5000}}) {
        INFO("keep " << keep << ", then " << zeros << " zeros");
        std::string bad = good.substr(0, keep) + std::string(good.size() - keep + zeros, '\0');
        REQUIRE(env.WriteRaw(kLog, bad).ok());
        ReadResult r = ReadLog(&env, kLog);
        CHECK(r.status.ok());
        CHECK(r.torn);
        CHECK(r.records == std::vector<std::string>(records.begin(), records.begin() + 2));
        CHECK(r.valid_bytes == offsets[2]);
      }
    }
  }
  SECTION("zeros over part of the last record's header") {
    // A final header whose first bytes survived and whose rest reads as zeros (a write torn at a
    // page boundary) fails its check, but only zeros follow it: a torn tail, and nothing is lost.
    for (size_t keep : {offsets[2] + 4, offsets[2] + 8, offsets[2] + 11}) {
      for (size_t zeros : {size_t{0}, size_t{100}}) {
        INFO("keep " << keep << ", then " << zeros << " zeros");
        std::string bad = good.substr(0, keep) + std::string(good.size() - keep + zeros, '\0');
        REQUIRE(env.WriteRaw(kLog, bad).ok());
        ReadResult r = ReadLog(&env, kLog);
        CHECK(r.status.ok());
        CHECK(r.torn);
        CHECK(r.records == std::vector<std::string>(records.begin(), records.begin() + 2));
        CHECK(r.valid_bytes == offsets[2]);
      }
    }
  }
  SECTION("a damaged final header followed by non-zero bytes is still reported") {
    std::string bad = good;
    bad[offsets[2] + 9] ^= 0x01;  // the header check of the last record
    REQUIRE(env.WriteRaw(kLog, bad).ok());
    ReadResult r = ReadLog(&env, kLog);
    CHECK(r.status.message() == HeaderCorruption(kLog, offsets[2]));
    CHECK_FALSE(r.torn);
  }
}

TEST_CASE("wal: a valid record after a damaged one is corruption", "[wal]") {
  FaultEnv env;
  REQUIRE(env.CreateDir("db").ok());
  std::vector<std::string> records = {Payload(40, 1), Payload(40, 2), Payload(40, 3),
                                      Payload(40, 4)};
  WriteLog(&env, kLog, records);
  std::string good;
  REQUIRE(env.ReadRaw(kLog, &good).ok());
  std::vector<uint64_t> offsets = RecordOffsets(records);

  SECTION("a damaged payload") {
    std::string bad = good;
    bad[offsets[1] + wal::kHeaderSize + 5] ^= 0x20;
    REQUIRE(env.WriteRaw(kLog, bad).ok());
    ReadResult r = ReadLog(&env, kLog);
    CHECK(r.status.IsCorruption());
    CHECK_FALSE(r.torn);
    CHECK(r.records == std::vector<std::string>{records[0]});
    CHECK(r.valid_bytes == offsets[1]);
    CHECK(r.status.ToString().find("000012.log: corrupt record at offset " +
                                   std::to_string(offsets[1]) + ": checksum mismatch") !=
          std::string::npos);
  }
  SECTION("a zeroed stretch in the middle") {
    std::string bad = good;
    std::fill(bad.begin() + offsets[1], bad.begin() + offsets[3], '\0');
    REQUIRE(env.WriteRaw(kLog, bad).ok());
    ReadResult r = ReadLog(&env, kLog);
    CHECK(r.status.message() == HeaderCorruption(kLog, offsets[1]));
    CHECK(r.records == std::vector<std::string>{records[0]});
  }
  SECTION("a length that runs past the end of the file") {
    std::string bad = good;
    bad[offsets[1] + 4 + 3] ^= 0x40;  // length 40 + 2^30
    REQUIRE(env.WriteRaw(kLog, bad).ok());
    ReadResult r = ReadLog(&env, kLog);
    CHECK(r.status.message() == HeaderCorruption(kLog, offsets[1]));
    CHECK_FALSE(r.torn);
    CHECK(r.records == std::vector<std::string>{records[0]});
    CHECK(r.valid_bytes == offsets[1]);
  }
  SECTION("a length that ends inside a zero-filled tail") {
    // Record 1's length is changed to end inside records 2 and 3, which are zeroed. Its header
    // check fails, and its own header is not zero, so this is not mistaken for a torn tail.
    std::string bad = good.substr(0, offsets[2]) + std::string(good.size() - offsets[2], '\0');
    EncodeFixed32(bad.data() + offsets[1] + 4, 40 + 2 * (wal::kHeaderSize + 40) - 10);
    REQUIRE(env.WriteRaw(kLog, bad).ok());
    ReadResult r = ReadLog(&env, kLog);
    CHECK(r.status.message() == HeaderCorruption(kLog, offsets[1]));
    CHECK(r.records == std::vector<std::string>{records[0]});
  }
  SECTION("only the last byte of the file is non-zero garbage") {
    std::string bad = good.substr(0, offsets[2]) + std::string(100, '\0') + "x";
    REQUIRE(env.WriteRaw(kLog, bad).ok());
    ReadResult r = ReadLog(&env, kLog);
    CHECK(r.status.message() == HeaderCorruption(kLog, offsets[2]));
    CHECK(r.records.size() == 2);
  }
}

TEST_CASE("wal: a garbage length does not allocate what it claims", "[wal]") {
  SECTION("a length that passes the header check") {
    // A header claiming ~4 GiB, followed by 1 MiB of data: the claimed end is past the end of the
    // file, so this is a torn tail, found by reading what is there and no more.
    std::string data = Header(0x63636363, 0xfffffff0u) + Payload(1 << 20, 9);
    WalReader reader(std::make_unique<StringFile>(data), "x.log");
    std::string record;
    CHECK_FALSE(reader.ReadRecord(&record));
    CHECK(reader.status().ok());
    CHECK(reader.torn_tail());
    CHECK(reader.valid_bytes() == 0);
    // The payload buffer grew with the bytes that exist, not with the claimed length.
    CHECK(record.capacity() < 4u << 20);
  }
  SECTION("a length that fails the header check") {
    // Never used at all: the reader stops at the header.
    std::string data = Header(0x63636363, 0xfffffff0u) + Payload(1 << 20, 9);
    data[4] ^= 1;
    WalReader reader(std::make_unique<StringFile>(data), "x.log");
    std::string record;
    CHECK_FALSE(reader.ReadRecord(&record));
    CHECK(reader.status().message() == HeaderCorruption("x.log", 0));
    CHECK_FALSE(reader.torn_tail());
    CHECK(record.capacity() < 1u << 20);
  }
}

TEST_CASE("wal: writer errors are sticky and leave a readable log", "[wal]") {
  FaultEnv env;
  REQUIRE(env.CreateDir("db").ok());
  std::unique_ptr<WritableFile> file;
  REQUIRE(env.NewWritableFile(kLog, &file).ok());
  WalWriter writer(std::move(file));
  std::vector<std::string> records = {Payload(10, 1), Payload(20, 2), Payload(30, 3)};
  for (const auto& r : records) REQUIRE(writer.AddRecord(r).ok());
  uint64_t good_size = writer.FileSize();

  // The header is appended, the payload append fails: the file ends in a partial record.
  env.FailOperation(2);
  Status s = writer.AddRecord(Payload(40, 4));
  CHECK(s.IsIOError());
  env.ClearFaults();
  // Later records are refused with the same error, so nothing lands after the partial record.
  Status again = writer.AddRecord(Payload(5, 5));
  CHECK(again.IsIOError());
  CHECK(again.message() == s.message());
  CHECK(writer.Sync().IsIOError());
  CHECK(writer.FileSize() == good_size + wal::kHeaderSize);
  CHECK(writer.Close().ok());
  CHECK(writer.AddRecord("x").IsInvalidArgument());

  ReadResult r = ReadLog(&env, kLog);
  CHECK(r.status.ok());
  CHECK(r.torn);
  CHECK(r.records == records);
  CHECK(r.valid_bytes == good_size);
}

TEST_CASE("wal: a failed sync sticks", "[wal]") {
  FaultEnv env;
  REQUIRE(env.CreateDir("db").ok());
  std::unique_ptr<WritableFile> file;
  REQUIRE(env.NewWritableFile(kLog, &file).ok());
  WalWriter writer(std::move(file));
  REQUIRE(writer.AddRecord("a").ok());
  env.FailOperation(1);
  CHECK_FALSE(writer.Sync().ok());
  env.ClearFaults();
  CHECK_FALSE(writer.Sync().ok());
  CHECK_FALSE(writer.AddRecord("b").ok());
}

TEST_CASE("wal: records synced before a power loss survive it", "[wal]") {
  FaultEnv env;
  REQUIRE(env.CreateDir("db").ok());
  std::unique_ptr<WritableFile> file;
  REQUIRE(env.NewWritableFile(kLog, &file).ok());
  REQUIRE(env.SyncDir("db").ok());
  WalWriter writer(std::move(file));
  REQUIRE(writer.AddRecord("one").ok());
  REQUIRE(writer.AddRecord("two").ok());
  REQUIRE(writer.Sync().ok());
  REQUIRE(writer.AddRecord("three").ok());  // flushed, never synced
  env.SimulatePowerLoss();
  ReadResult r = ReadLog(&env, kLog);
  CHECK(r.status.ok());
  CHECK(r.records == std::vector<std::string>{"one", "two"});
}

TEST_CASE("wal: a read error is reported as such", "[wal]") {
  FaultEnv env;
  REQUIRE(env.CreateDir("db").ok());
  std::vector<std::string> records;
  for (int i = 0; i < 10; i++) records.push_back(Payload(100000, i));  // ~1 MB: several reads
  WriteLog(&env, kLog, records);
  std::unique_ptr<SequentialFile> file;
  REQUIRE(env.NewSequentialFile(kLog, &file).ok());
  WalReader reader(std::move(file), kLog);
  std::string record;
  REQUIRE(reader.ReadRecord(&record));  // the first buffer is in
  CHECK(record == records[0]);
  env.FailOperation(1, /*sticky=*/true);
  size_t n = 1;
  while (reader.ReadRecord(&record)) {
    CHECK(record == records[n]);
    n++;
  }
  env.ClearFaults();
  CHECK(n < records.size());
  CHECK(reader.status().IsIOError());
  CHECK_FALSE(reader.torn_tail());
}

TEST_CASE("wal: round trip through the POSIX env", "[wal]") {
  test::TempDir dir;  // under TMPDIR, removed at the end
  REQUIRE(!dir.path().empty());
  const std::string name = dir.path() + "/000001.log";
  Env* env = Env::Default();
  std::vector<std::string> records = {Payload(0, 1), Payload(300000, 2), Payload(17, 3)};
  {
    std::unique_ptr<WritableFile> file;
    REQUIRE(env->NewWritableFile(name, &file).ok());
    WalWriter writer(std::move(file));
    for (const auto& r : records) REQUIRE(writer.AddRecord(r).ok());
    REQUIRE(writer.Sync().ok());
    REQUIRE(writer.Close().ok());
  }
  REQUIRE(env->TruncateFile(name, RecordOffsets(records).back() - 3).ok());
  std::unique_ptr<SequentialFile> file;
  REQUIRE(env->NewSequentialFile(name, &file).ok());
  ReadResult r = ReadFrom(std::move(file), name);
  CHECK(r.status.ok());
  CHECK(r.torn);
  CHECK(r.records == std::vector<std::string>(records.begin(), records.begin() + 2));
  REQUIRE(env->RemoveFile(name).ok());
}

}  // namespace keyva
