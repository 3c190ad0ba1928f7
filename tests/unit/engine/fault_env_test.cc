#include "internal/engine/testing/fault_env.h"

#include <catch2/catch.hpp>

namespace keyva {
namespace {

std::string Read(FaultEnv* env, const std::string& name) {
  std::string data;
  REQUIRE(ReadFileToString(env, name, &data).ok());
  return data;
}

}  // namespace

TEST_CASE("power loss keeps synced bytes of durably named files only", "[fault_env]") {
  FaultEnv env;
  REQUIRE(env.CreateDir("/d").ok());
  std::unique_ptr<WritableFile> f;
  REQUIRE(env.NewWritableFile("/d/a", &f).ok());
  REQUIRE(f->Append("hello").ok());
  REQUIRE(f->Sync().ok());
  REQUIRE(f->Append(" world").ok());
  REQUIRE(env.SyncDir("/d").ok());
  std::unique_ptr<WritableFile> g;
  REQUIRE(env.NewWritableFile("/d/b", &g).ok());  // never made durable by SyncDir
  REQUIRE(g->Append("x").ok());
  REQUIRE(g->Sync().ok());
  env.SimulatePowerLoss();
  CHECK(Read(&env, "/d/a") == "hello");
  CHECK_FALSE(env.FileExists("/d/b"));
}

TEST_CASE("renames and removals revert unless the directory was synced", "[fault_env]") {
  FaultEnv env;
  REQUIRE(env.CreateDir("/d").ok());
  REQUIRE(WriteStringToFileSync(&env, "one", "/d/x").ok());
  REQUIRE(env.SyncDir("/d").ok());
  REQUIRE(env.RenameFile("/d/x", "/d/y").ok());
  env.SimulatePowerLoss();
  CHECK(env.FileExists("/d/x"));
  CHECK_FALSE(env.FileExists("/d/y"));
  REQUIRE(env.RemoveFile("/d/x").ok());
  REQUIRE(env.SyncDir("/d").ok());
  env.SimulatePowerLoss();
  CHECK_FALSE(env.FileExists("/d/x"));
}

TEST_CASE("the k-th operation fails, once or from then on", "[fault_env]") {
  FaultEnv env;
  REQUIRE(env.CreateDir("/d").ok());
  std::unique_ptr<WritableFile> f;
  REQUIRE(env.NewWritableFile("/d/a", &f).ok());
  env.FailOperation(2);
  CHECK(f->Append("1").ok());
  CHECK(f->Append("2").IsIOError());
  CHECK(f->Append("3").ok());
  env.SetFailureCode(Status::Code::kNoSpace);
  env.FailOperation(1, /*sticky=*/true);
  CHECK(f->Sync().IsNoSpace());
  CHECK(env.RemoveFile("/d/a").IsNoSpace());
  env.ClearFaults();
  CHECK(env.RemoveFile("/d/a").ok());
}

}  // namespace keyva
