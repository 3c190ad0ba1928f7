// Corruption sweep over the MANIFEST: flip every byte, open, read everything. The outcome is either
// exactly the right data or a Corruption status - never wrong data, never a crash.
#include <catch2/catch.hpp>
#include <iostream>
#include <map>

#include "internal/engine/db.h"
#include "internal/engine/db/filename.h"
#include "internal/engine/testing/fault_env.h"

namespace keyva {
namespace {

using Files = std::map<std::string, std::string>;

Files SaveDir(FaultEnv* env, const std::string& dir) {
  Files files;
  std::vector<std::string> children;
  REQUIRE(env->GetChildren(dir, &children).ok());
  for (const auto& c : children) REQUIRE(env->ReadRaw(dir + "/" + c, &files[c]).ok());
  return files;
}

void RestoreDir(FaultEnv* env, const std::string& dir, const Files& files) {
  std::vector<std::string> children;
  REQUIRE(env->GetChildren(dir, &children).ok());
  for (const auto& c : children) REQUIRE(env->RemoveFile(dir + "/" + c).ok());
  for (const auto& [name, data] : files) REQUIRE(env->WriteRaw(dir + "/" + name, data).ok());
}

Options SmallOptions(FaultEnv* env) {
  Options o;
  o.env = env;
  o.memtable_bytes = 16 << 10;
  o.background_work = false;
  o.create_if_missing = false;
  return o;
}

}  // namespace

TEST_CASE("every flipped MANIFEST byte gives the right data or Corruption", "[db][corruption]") {
  FaultEnv env;
  std::map<std::string, std::string> model;
  {
    Options o = SmallOptions(&env);
    o.create_if_missing = true;
    std::unique_ptr<DB> db;
    REQUIRE(DB::Open(o, "/db", &db).ok());
    // Several flushes, a compaction, deletes, and unflushed writes in the WAL.
    for (int i = 0; i < 3000; i++) {
      std::string k = "key" + std::to_string(i % 700), v = std::string(20 + i % 50, 'a' + i % 26);
      REQUIRE(db->Put(k, v).ok());
      model[k] = v;
      if (i % 11 == 0) {
        REQUIRE(db->Delete("key" + std::to_string(i % 300)).ok());
        model.erase("key" + std::to_string(i % 300));
      }
    }
    DBStats st = db->GetStats();
    REQUIRE(st.flushes + st.compactions > 2);
  }
  const Files original = SaveDir(&env, "/db");
  std::string manifest;
  for (const auto& [name, data] : original) {
    uint64_t n;
    if (ParseFileName(name, &n) == FileType::kManifest) manifest = name;
  }
  REQUIRE(!manifest.empty());
  const std::string good = original.at(manifest);
  {  // the undamaged directory opens with the right data (so refusals below mean something)
    RestoreDir(&env, "/db", original);
    std::unique_ptr<DB> db;
    Status s = DB::Open(SmallOptions(&env), "/db", &db);
    INFO(s.ToString());
    REQUIRE(s.ok());
    std::map<std::string, std::string> got;
    auto it = db->NewIterator(ReadOptions());
    for (it->SeekToFirst(); it->Valid(); it->Next())
      got[std::string(it->key())] = std::string(it->value());
    REQUIRE(got == model);
  }
  INFO("MANIFEST of " << good.size() << " bytes");
  int opened = 0, corrupt = 0;
  for (size_t pos = 0; pos < good.size(); pos++) {
    for (unsigned char mask : {0x01, 0x80}) {
      Files damaged = original;
      damaged[manifest][pos] = static_cast<char>(damaged[manifest][pos] ^ mask);
      RestoreDir(&env, "/db", damaged);
      std::unique_ptr<DB> db;
      Status s = DB::Open(SmallOptions(&env), "/db", &db);
      INFO("byte " << pos << " mask " << int(mask) << ": " << s.ToString());
      if (!s.ok()) {
        REQUIRE(s.IsCorruption());
        corrupt++;
        continue;
      }
      opened++;
      std::map<std::string, std::string> got;
      auto it = db->NewIterator(ReadOptions());
      for (it->SeekToFirst(); it->Valid(); it->Next())
        got[std::string(it->key())] = std::string(it->value());
      if (!it->status().ok()) {
        REQUIRE(it->status().IsCorruption());
        continue;
      }
      REQUIRE(got == model);
    }
  }
  std::cout << "MANIFEST sweep: " << good.size() << " bytes x 2 flips: " << opened
            << " opened with the right data, " << corrupt << " refused as Corruption\n";
  CHECK(corrupt > 0);
}

}  // namespace keyva
