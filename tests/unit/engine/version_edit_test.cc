#include "internal/engine/db/version_edit.h"

#include <catch2/catch.hpp>

#include "internal/engine/db/compaction.h"
#include "internal/engine/db/filename.h"
#include "internal/engine/db/version_set.h"

namespace keyva {
namespace {

std::shared_ptr<const FileMeta> File(uint64_t number, std::string_view lo, std::string_view hi,
                                     uint64_t size = 1000) {
  auto f = std::make_shared<FileMeta>();
  f->number = number;
  f->file_size = size;
  f->smallest = MakeInternalKey(lo, 100, ValueType::kValue);
  f->largest = MakeInternalKey(hi, 1, ValueType::kValue);
  return f;
}

}  // namespace

TEST_CASE("version edits round-trip every field", "[version_edit]") {
  VersionEdit e;
  e.log_number = 7;
  e.next_file_number = 99;
  e.last_sequence = 123456;
  e.RemoveFile(2, 40);
  e.AddFile(3, *File(41, "a", "m", 4096));
  std::string enc;
  e.EncodeTo(&enc);
  VersionEdit d;
  REQUIRE(d.DecodeFrom(enc).ok());
  CHECK(d.log_number == 7u);
  CHECK(d.next_file_number == 99u);
  CHECK(d.last_sequence == 123456u);
  CHECK(d.deleted_files == e.deleted_files);
  REQUIRE(d.new_files.size() == 1);
  CHECK(d.new_files[0].first == 3);
  CHECK(d.new_files[0].second.file_size == 4096);
  CHECK(d.new_files[0].second.largest == e.new_files[0].second.largest);
}

TEST_CASE("damaged version edits are Corruption, never a crash", "[version_edit]") {
  VersionEdit e;
  e.log_number = 7;
  e.AddFile(1, *File(41, "a", "m"));
  std::string enc;
  e.EncodeTo(&enc);
  for (size_t cut = 0; cut < enc.size(); cut++) {
    VersionEdit d;
    Status s = d.DecodeFrom(std::string_view(enc).substr(0, cut));
    if (!s.ok()) CHECK(s.IsCorruption());
  }
  std::string bad_level = enc;
  VersionEdit d;
  CHECK(d.DecodeFrom(std::string("\x05\x09", 2) + enc.substr(2)).IsCorruption());
  CHECK(d.DecodeFrom(std::string("\x7f", 1)).IsCorruption());
}

TEST_CASE("file names parse back to their kind and number", "[filename]") {
  uint64_t n;
  CHECK(ParseFileName("000012.log", &n) == FileType::kWal);
  CHECK(n == 12);
  CHECK(ParseFileName("1234567.sst", &n) == FileType::kSst);
  CHECK(n == 1234567);
  CHECK(ParseFileName("MANIFEST-000003", &n) == FileType::kManifest);
  CHECK(ParseFileName("CURRENT", &n) == FileType::kCurrent);
  CHECK(ParseFileName("LOCK", &n) == FileType::kLock);
  CHECK(ParseFileName("000004.tmp", &n) == FileType::kTemp);
  CHECK(ParseFileName("notes.txt", &n) == FileType::kUnknown);
  CHECK(ParseFileName("12x.sst", &n) == FileType::kUnknown);
  CHECK(ParseFileName(".sst", &n) == FileType::kUnknown);
}

TEST_CASE("version invariants catch overlapping files in sorted levels", "[version]") {
  Version v;
  v.files[1] = {File(1, "a", "c"), File(2, "d", "f")};
  CHECK(v.CheckInvariants().ok());
  v.files[1] = {File(1, "a", "d"), File(2, "d", "f")};
  CHECK(v.CheckInvariants().IsCorruption());
  Version l0;
  l0.files[0] = {File(2, "a", "z"), File(1, "b", "c")};  // L0 may overlap
  CHECK(l0.CheckInvariants().ok());
  CHECK(v.FindFile(1, MakeInternalKey("e", 5, ValueType::kValue)) == 1);
}

TEST_CASE("the picker takes all of L0 plus the overlapping L1 files", "[compaction]") {
  Version v;
  for (int i = 0; i < config::kL0CompactionTrigger; i++) {
    v.files[0].push_back(File(10 + i, "c", "e"));
  }
  v.files[1] = {File(1, "a", "b"), File(2, "c", "d"), File(3, "x", "z")};
  CompactionPicker picker;
  auto plan = picker.Pick(v);
  REQUIRE(plan);
  CHECK(plan->level == 0);
  CHECK(plan->inputs[0].size() == static_cast<size_t>(config::kL0CompactionTrigger));
  REQUIRE(plan->inputs[1].size() == 1);
  CHECK(plan->inputs[1][0]->number == 2);
  CHECK(plan->bottommost);
  CHECK_FALSE(plan->trivial_move);
}

TEST_CASE("an oversized level moves a lone file down without rewriting it", "[compaction]") {
  Version v;
  v.files[1] = {File(1, "a", "b", MaxBytesForLevel(1) + 1)};
  v.files[3] = {File(9, "a", "z")};
  CompactionPicker picker;
  auto plan = picker.Pick(v);
  REQUIRE(plan);
  CHECK(plan->level == 1);
  CHECK(plan->trivial_move);
  CHECK_FALSE(plan->bottommost);  // L3 holds data in the range
  CompactionPicker idle;
  Version small;
  small.files[1] = {File(1, "a", "b")};
  CHECK(idle.Pick(small) == nullptr);
}

TEST_CASE("upper levels target a tenth of the level below the deepest data", "[compaction]") {
  constexpr uint64_t kMiB = 1 << 20;
  Version v;
  v.files[1] = {File(1, "a", "b", 12 * kMiB)};
  v.files[2] = {File(2, "a", "m", 25 * kMiB)};
  v.files[3] = {File(3, "a", "z", 200 * kMiB)};
  CHECK(LevelTarget(v, 3) == MaxBytesForLevel(3));  // the deepest level grows by its static target
  CHECK(LevelTarget(v, 2) == 20 * kMiB);            // a tenth of L3
  CHECK(LevelTarget(v, 1) == config::kL1MaxBytes);  // never below the L1 floor
  // L2 holds 25 MiB against a 20 MiB target: it is compacted even though its static target is 100.
  CompactionPicker picker;
  auto plan = picker.Pick(v);
  REQUIRE(plan);
  CHECK(plan->level == 2);
}

}  // namespace keyva
