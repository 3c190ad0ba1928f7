// DB::Checkpoint: the copy opens as a database holding exactly the state at the call (memtable,
// frozen memtables and SSTs of every level), survives a power loss right after the call, is
// independent of the source, hard-links SSTs on a real file system, refuses an existing
// directory, and leaves no openable half-copy when an I/O operation fails midway.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <map>
#include <random>

#include "internal/engine/db.h"
#include "internal/engine/db/filename.h"
#include "internal/engine/testing/fault_env.h"
#include "tests/util/test_util.h"

namespace keyva {
namespace {

std::unique_ptr<DB> MustOpen(const Options& o, const std::string& dir) {
  std::unique_ptr<DB> db;
  Status s = DB::Open(o, dir, &db);
  INFO(dir << ": " << s.ToString());
  REQUIRE(s.ok());
  return db;
}

std::map<std::string, std::string> Contents(DB* db) {
  std::map<std::string, std::string> out;
  auto it = db->NewIterator(ReadOptions());
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    out[std::string(it->key())] = std::string(it->value());
  }
  REQUIRE(it->status().ok());
  return out;
}

// Random puts and deletes over a small key space, mirrored into *model.
void RandomWrites(DB* db, std::mt19937_64* rng, int n, std::map<std::string, std::string>* model) {
  for (int i = 0; i < n; i++) {
    std::string key = "k" + std::to_string((*rng)() % 2000);
    if ((*rng)() % 8 == 0) {
      REQUIRE(db->Delete(key).ok());
      model->erase(key);
    } else {
      std::string value(20 + (*rng)() % 200, static_cast<char>('a' + (*rng)() % 26));
      value += std::to_string(i);
      REQUIRE(db->Put(key, value).ok());
      (*model)[key] = value;
    }
  }
}

}  // namespace

TEST_CASE("a checkpoint holds the state at the call and survives a power loss", "[checkpoint]") {
  const uint64_t seed = test::TestSeed();
  INFO("KEYVA_TEST_SEED=" << seed);
  std::mt19937_64 rng(seed);
  FaultEnv env;
  Options o;
  o.env = &env;
  o.memtable_bytes = 32 * 1024;  // many flushes and compactions: SSTs on several levels
  o.sync = SyncMode::kNone;      // Checkpoint itself must sync what it copies
  auto db = MustOpen(o, "/db");
  std::map<std::string, std::string> model;
  const int n = test::Scaled(6000, 2000);
  RandomWrites(db.get(), &rng, n, &model);
  REQUIRE(db->WaitForBackgroundWork().ok());
  RandomWrites(db.get(), &rng, 300, &model);  // some of it only in the memtable and WAL
  const std::map<std::string, std::string> at_checkpoint = model;

  REQUIRE(db->Checkpoint("/backup/one").ok());
  RandomWrites(db.get(), &rng, 500, &model);  // after the call: not in the checkpoint
  REQUIRE(db->Put("written-after", "x").ok());
  REQUIRE(db->Close().ok());
  env.SimulatePowerLoss();

  auto copy = MustOpen(o, "/backup/one");
  CHECK(Contents(copy.get()) == at_checkpoint);
  CHECK(copy->VerifyIntegrity().ok());
  // The copy is a database of its own: writes to it leave the source alone.
  REQUIRE(copy->Put("only-in-copy", "1").ok());
  REQUIRE(copy->Close().ok());
  copy = MustOpen(o, "/backup/one");
  CHECK(Contents(copy.get()).count("only-in-copy") == 1);
  REQUIRE(copy->Close().ok());
}

TEST_CASE("a checkpoint of a database with frozen memtables and an empty one", "[checkpoint]") {
  FaultEnv env;
  Options o;
  o.env = &env;
  o.memtable_bytes = 16 * 1024;
  o.background_work = false;  // flushes run inline: the state is deterministic
  auto db = MustOpen(o, "/db");
  REQUIRE(db->Checkpoint("/empty").ok());
  auto copy = MustOpen(o, "/empty");
  CHECK(Contents(copy.get()).empty());
  REQUIRE(copy->Close().ok());

  std::map<std::string, std::string> model;
  for (int i = 0; i < 500; i++) {
    std::string key = "key" + std::to_string(i);
    model[key] = std::string(100, static_cast<char>('a' + i % 26));
    REQUIRE(db->Put(key, model[key]).ok());
  }
  REQUIRE(db->Delete("key7").ok());
  model.erase("key7");
  REQUIRE(db->Checkpoint("/full/").ok());  // a trailing slash names the same directory
  copy = MustOpen(o, "/full");
  CHECK(Contents(copy.get()) == model);
  REQUIRE(copy->Close().ok());
  REQUIRE(db->Close().ok());
}

TEST_CASE("a checkpoint on a real file system hard-links SSTs and refuses an existing directory",
          "[checkpoint]") {
  test::TempDir tmp;
  REQUIRE(!tmp.path().empty());
  const std::string src = tmp.path() + "/db";
  const std::string dst = tmp.path() + "/backups/b1";
  Options o;
  o.memtable_bytes = 16 * 1024;
  auto db = MustOpen(o, src);
  std::map<std::string, std::string> model;
  for (int i = 0; i < 400; i++) {
    std::string key = "key" + std::to_string(i);
    model[key] = std::string(120, static_cast<char>('a' + i % 26));
    REQUIRE(db->Put(key, model[key]).ok());
  }
  REQUIRE(db->Flush().ok());
  REQUIRE(db->Put("tail", "in the WAL only").ok());
  model["tail"] = "in the WAL only";

  REQUIRE(db->Checkpoint(dst).ok());
  Status again = db->Checkpoint(dst);
  CHECK(again.IsInvalidArgument());
  CHECK(db->Checkpoint(src).IsInvalidArgument());

  // Every SST of the checkpoint is the source's file under a second name.
  int ssts = 0;
  std::vector<std::string> children;
  REQUIRE(Env::Default()->GetChildren(dst, &children).ok());
  for (const std::string& name : children) {
    uint64_t number;
    if (ParseFileName(name, &number) != FileType::kSst) continue;
    struct stat a, b;
    REQUIRE(::stat((dst + "/" + name).c_str(), &a) == 0);
    REQUIRE(::stat((src + "/" + name).c_str(), &b) == 0);
    CHECK(a.st_ino == b.st_ino);
    ssts++;
  }
  CHECK(ssts > 0);

  // The copy opens while the source is still open (its own LOCK) and holds the same keys.
  auto copy = MustOpen(o, dst);
  CHECK(Contents(copy.get()) == model);
  REQUIRE(copy->Put("tail", "changed in the copy").ok());
  REQUIRE(copy->CompactRange(nullptr, nullptr).ok());
  REQUIRE(copy->Close().ok());
  CHECK(Contents(db.get()) == model);
  CHECK(db->VerifyIntegrity().ok());
  REQUIRE(db->Close().ok());
}

TEST_CASE("a checkpoint failing midway leaves no openable copy and the source intact",
          "[checkpoint][fault]") {
  FaultEnv env;
  Options o;
  o.env = &env;
  o.memtable_bytes = 16 * 1024;
  o.background_work = false;
  auto db = MustOpen(o, "/db");
  std::map<std::string, std::string> model;
  for (int i = 0; i < 300; i++) {
    std::string key = "key" + std::to_string(i);
    model[key] = std::string(100, static_cast<char>('a' + i % 26));
    REQUIRE(db->Put(key, model[key]).ok());
  }
  // Fail the k-th operation of the checkpoint, for k = 1, 2, ... until one succeeds. (The WAL is
  // already synced - sync=always - so no failure here can touch the source's own files.)
  bool succeeded = false;
  for (uint64_t k = 1; k < 200 && !succeeded; k++) {
    INFO("failing operation " << k);
    const std::string dir = "/ckpt" + std::to_string(k);
    env.FailOperation(k);
    Status s = db->Checkpoint(dir);
    env.ClearFaults();
    if (s.ok()) {
      succeeded = true;
      auto copy = MustOpen(o, dir);
      CHECK(Contents(copy.get()) == model);
      REQUIRE(copy->Close().ok());
      break;
    }
    CHECK(!env.FileExists(CurrentFileName(dir)));
    std::vector<std::string> left;
    REQUIRE(env.GetChildren(dir, &left).ok());
    CHECK(left.empty());
    CHECK(Contents(db.get()) == model);
  }
  CHECK(succeeded);
  REQUIRE(db->Put("still", "writable").ok());
  REQUIRE(db->Close().ok());
}

}  // namespace keyva
