// Damaged files at start: a truncated or bit-flipped SST, WAL or MANIFEST gives an error that
// names the file and says what is wrong (a torn WAL tail recovers instead), and the offline
// checker (VerifyDataDir, behind `keyva verify`) finds every one of them in a directory that
// nothing has opened.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "internal/engine/db.h"
#include "internal/engine/db/filename.h"
#include "internal/engine/verify.h"
#include "tests/util/test_util.h"

namespace keyva {
namespace {

namespace fs = std::filesystem;

Options PosixOptions() {
  Options o;
  o.memtable_bytes = 64 * 1024;
  o.block_size = 1024;
  return o;
}

std::string Value(int i) { return "value-" + std::to_string(i) + std::string(200, 'x'); }

// A database with two SSTs (L0) and a WAL holding more writes, closed.
void MakeDb(const std::string& dir) {
  std::unique_ptr<DB> db;
  REQUIRE(DB::Open(PosixOptions(), dir, &db).ok());
  for (int i = 0; i < 400; i++) REQUIRE(db->Put("key" + std::to_string(i), Value(i)).ok());
  REQUIRE(db->Flush().ok());
  for (int i = 400; i < 800; i++) REQUIRE(db->Put("key" + std::to_string(i), Value(i)).ok());
  REQUIRE(db->Flush().ok());
  for (int i = 800; i < 900; i++) REQUIRE(db->Put("key" + std::to_string(i), Value(i)).ok());
  REQUIRE(db->Close().ok());
}

std::vector<std::string> Files(const std::string& dir, const std::string& suffix) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    std::string name = e.path().filename().string();
    if (name.size() > suffix.size() &&
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
      out.push_back(e.path().string());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string ManifestPath(const std::string& dir) {
  std::ifstream in(dir + "/CURRENT");
  std::string name;
  std::getline(in, name);
  return dir + "/" + name;
}

std::string Read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}
void Write(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << data;
}
void FlipBit(const std::string& path, size_t offset) {
  std::string d = Read(path);
  REQUIRE(offset < d.size());
  d[offset] ^= 0x10;
  Write(path, d);
}

Status OpenStatus(const std::string& dir, std::unique_ptr<DB>* db) {
  return DB::Open(PosixOptions(), dir, db);
}

std::string BaseName(const std::string& path) { return fs::path(path).filename().string(); }

// Runs the offline checker; returns its report.
VerifyReport Verify(const std::string& dir) {
  VerifyReport r;
  Status s = VerifyDataDir(Env::Default(), dir, &r);
  INFO(s.ToString());
  REQUIRE(s.ok());
  INFO(r.Summary());
  return r;
}

bool AnyContains(const std::vector<std::string>& lines, const std::string& a,
                 const std::string& b = "") {
  for (const auto& l : lines) {
    if (l.find(a) != std::string::npos && l.find(b) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("corrupt start: a clean directory verifies and opens", "[corruption][verify]") {
  test::TempDir tmp;
  MakeDb(tmp.path());
  VerifyReport r = Verify(tmp.path());
  INFO(r.Summary());
  CHECK(r.ok());
  CHECK(r.manifest_ok);
  CHECK(r.sst_files >= 1);
  CHECK(r.wal_files >= 1);
  CHECK(r.wal_records >= 100);
  CHECK(r.last_sequence >= 900);
  CHECK(r.Summary().find("result: OK") != std::string::npos);
  std::unique_ptr<DB> db;
  REQUIRE(OpenStatus(tmp.path(), &db).ok());
  REQUIRE(db->VerifyIntegrity().ok());
}

TEST_CASE("corrupt start: a truncated SST fails open naming the file and both sizes",
          "[corruption][verify]") {
  test::TempDir tmp;
  MakeDb(tmp.path());
  std::string sst = Files(tmp.path(), ".sst").front();
  uint64_t size = fs::file_size(sst);
  fs::resize_file(sst, size - 100);
  VerifyReport r = Verify(tmp.path());
  CHECK_FALSE(r.ok());
  CHECK(AnyContains(r.problems, BaseName(sst), "truncated"));
  std::unique_ptr<DB> db;
  Status s = OpenStatus(tmp.path(), &db);
  INFO(s.ToString());
  CHECK(s.IsCorruption());
  CHECK(s.message().find(BaseName(sst)) != std::string::npos);
  CHECK(s.message().find(std::to_string(size)) != std::string::npos);
}

TEST_CASE("corrupt start: a bit flip in an SST block is Corruption naming the file",
          "[corruption][verify]") {
  test::TempDir tmp;
  MakeDb(tmp.path());
  std::string sst = Files(tmp.path(), ".sst").front();
  FlipBit(sst, 100);  // inside the first data block
  VerifyReport r = Verify(tmp.path());
  CHECK_FALSE(r.ok());
  CHECK(AnyContains(r.problems, BaseName(sst), "checksum mismatch"));
  // Open reads no data block; the first read of the damaged block, and the integrity check, fail
  // with the file's name. No read returns wrong data.
  std::unique_ptr<DB> db;
  REQUIRE(OpenStatus(tmp.path(), &db).ok());
  Status v = db->VerifyIntegrity();
  INFO(v.ToString());
  CHECK(v.IsCorruption());
  CHECK(v.message().find(BaseName(sst)) != std::string::npos);
  auto it = db->NewIterator(ReadOptions());
  int seen = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    std::string k(it->key());
    REQUIRE(std::string(it->value()) == Value(std::stoi(k.substr(3))));
    seen++;
  }
  INFO(it->status().ToString());
  CHECK(it->status().IsCorruption());
  CHECK(it->status().message().find(BaseName(sst)) != std::string::npos);
  CHECK(seen < 900);
}

TEST_CASE("corrupt start: a damaged SST footer is Corruption naming the file",
          "[corruption][verify]") {
  test::TempDir tmp;
  MakeDb(tmp.path());
  std::string sst = Files(tmp.path(), ".sst").back();
  FlipBit(sst, fs::file_size(sst) - 3);  // the magic number
  VerifyReport r = Verify(tmp.path());
  CHECK_FALSE(r.ok());
  CHECK(AnyContains(r.problems, BaseName(sst), "magic"));
  std::unique_ptr<DB> db;
  REQUIRE(OpenStatus(tmp.path(), &db).ok());
  std::string v;
  ValueMeta m;
  Status s = db->Get(ReadOptions(), "key500", &v, &m);  // in the newer file
  INFO(s.ToString());
  CHECK(s.IsCorruption());
  CHECK(s.message().find(BaseName(sst)) != std::string::npos);
}

TEST_CASE("corrupt start: a truncated WAL recovers every record before the cut",
          "[corruption][verify]") {
  test::TempDir tmp;
  MakeDb(tmp.path());
  std::string wal = Files(tmp.path(), ".log").back();
  uint64_t size = fs::file_size(wal);
  fs::resize_file(wal, size - 50);  // cuts the last record
  VerifyReport r = Verify(tmp.path());
  CHECK(r.ok());
  CHECK(AnyContains(r.warnings, BaseName(wal), "torn tail"));
  std::unique_ptr<DB> db;
  REQUIRE(OpenStatus(tmp.path(), &db).ok());
  std::string v;
  ValueMeta m;
  CHECK(db->Get(ReadOptions(), "key898", &v, &m).ok());
  CHECK(db->Get(ReadOptions(), "key899", &v, &m).IsNotFound());
  REQUIRE(db->Close().ok());
  CHECK(Verify(tmp.path()).warnings.empty());  // truncated at open
}

TEST_CASE("corrupt start: a bit flip inside a WAL fails open naming the file and offset",
          "[corruption][verify]") {
  test::TempDir tmp;
  MakeDb(tmp.path());
  std::string wal = Files(tmp.path(), ".log").back();
  FlipBit(wal, 1000);
  VerifyReport r = Verify(tmp.path());
  CHECK_FALSE(r.ok());
  CHECK(AnyContains(r.problems, BaseName(wal), "offset"));
  std::unique_ptr<DB> db;
  Status s = OpenStatus(tmp.path(), &db);
  INFO(s.ToString());
  CHECK(s.IsCorruption());
  CHECK(s.message().find(BaseName(wal)) != std::string::npos);
  CHECK(s.message().find("offset") != std::string::npos);
}

TEST_CASE("corrupt start: a damaged or truncated MANIFEST fails open naming it",
          "[corruption][verify]") {
  for (bool truncate : {false, true}) {
    INFO("truncate: " << truncate);
    test::TempDir tmp;
    MakeDb(tmp.path());
    std::string manifest = ManifestPath(tmp.path());
    if (truncate) {
      // Cut inside a later edit: what is left is an older, self-consistent state whose files
      // are gone; the error about them must point at the truncated MANIFEST.
      fs::resize_file(manifest, fs::file_size(manifest) / 2);
    } else {
      FlipBit(manifest, 30);
    }
    VerifyReport r = Verify(tmp.path());
    CHECK_FALSE(r.ok());
    CHECK(AnyContains(r.problems, BaseName(manifest)));
    if (!truncate) {
      CHECK_FALSE(r.manifest_ok);
      CHECK(r.sst_files >= 1);  // still checked, on their own
    }
    std::unique_ptr<DB> db;
    Status s = OpenStatus(tmp.path(), &db);
    INFO(s.ToString());
    CHECK(s.IsCorruption());
    CHECK(s.message().find(BaseName(manifest)) != std::string::npos);
  }
}

TEST_CASE("corrupt start: a CURRENT that names nothing usable is explained",
          "[corruption][verify]") {
  test::TempDir tmp;
  MakeDb(tmp.path());
  Write(tmp.path() + "/CURRENT", "MANIFEST-999999\n");
  std::unique_ptr<DB> db;
  Status s = OpenStatus(tmp.path(), &db);
  INFO(s.ToString());
  CHECK(s.IsCorruption());
  CHECK(s.message().find("MANIFEST-999999") != std::string::npos);
  CHECK(s.message().find("missing") != std::string::npos);
  CHECK_FALSE(Verify(tmp.path()).ok());
}

TEST_CASE("verify: an empty directory holds no database", "[verify]") {
  test::TempDir tmp;
  VerifyReport r;
  CHECK(VerifyDataDir(Env::Default(), tmp.path(), &r).IsNotFound());
}

}  // namespace keyva
