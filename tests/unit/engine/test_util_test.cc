// Tests of the shared test settings (tests/util/test_util.h): KEYVA_TEST_SCALE is a double (the
// sanitizer passes' 0.1 is 0.1, not 0 nor 1), Scaled() rounds and keeps its floor, and the seed
// and count readers take what the environment says.
#include "tests/util/test_util.h"

#include <stdlib.h>

#include <catch2/catch.hpp>
#include <optional>
#include <string>

namespace keyva::test {
namespace {

// Sets an environment variable for one scope and restores its previous value (or its absence).
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value != nullptr) {
      ::setenv(name, value, 1);
    } else {
      ::unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST_CASE("test util: KEYVA_TEST_SCALE=0.1 reads as 0.1 and scales sizes down", "[test_util]") {
  ScopedEnv scale("KEYVA_TEST_SCALE", "0.1");
  CHECK(TestScale() == 0.1);
  CHECK(Scaled(4000, 100) == 400);
  CHECK(Scaled(4000, 1000) == 1000);  // the floor wins
  CHECK(Scaled<size_t>(24, 24) == 24);
  CHECK(Scaled<int64_t>(200000 / 4, 250) == 5000);
  CHECK(Scaled(25, 1) == 3);  // 2.5 rounds away from zero
}

TEST_CASE("test util: KEYVA_TEST_SCALE defaults to 1 and takes larger factors", "[test_util]") {
  {
    ScopedEnv scale("KEYVA_TEST_SCALE", nullptr);
    CHECK(TestScale() == 1.0);
    CHECK(Scaled(4000, 1000) == 4000);
  }
  for (const char* bad : {"0", "-2", "", "abc"}) {
    ScopedEnv scale("KEYVA_TEST_SCALE", bad);
    INFO("KEYVA_TEST_SCALE=" << bad);
    CHECK(TestScale() == 1.0);
  }
  ScopedEnv scale("KEYVA_TEST_SCALE", "2.5");
  CHECK(TestScale() == 2.5);
  CHECK(Scaled(400, 100) == 1000);
}

TEST_CASE("test util: seeds and counts come from the environment", "[test_util]") {
  {
    ScopedEnv seed("KEYVA_TEST_SEED", "18446744073709551615");
    CHECK(TestSeed() == 18446744073709551615ull);
    CHECK(TestSeedOr(7) == 18446744073709551615ull);
  }
  {
    ScopedEnv seed("KEYVA_TEST_SEED", nullptr);
    CHECK(TestSeedOr(20240611) == 20240611);
  }
  {
    ScopedEnv rounds("KEYVA_CRASH_ROUNDS", "12");
    CHECK(EnvCount("KEYVA_CRASH_ROUNDS") == 12);
  }
  for (const char* bad : {"0", "-3", "", "5x"}) {
    ScopedEnv rounds("KEYVA_CRASH_ROUNDS", bad);
    INFO("KEYVA_CRASH_ROUNDS=" << bad);
    CHECK_FALSE(EnvCount("KEYVA_CRASH_ROUNDS").has_value());
  }
  ScopedEnv rounds("KEYVA_CRASH_ROUNDS", nullptr);
  CHECK_FALSE(EnvCount("KEYVA_CRASH_ROUNDS").has_value());
}

}  // namespace
}  // namespace keyva::test
