// Small helpers shared by the test binaries: seeds, scale, temporary directories.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <string>
#include <type_traits>

namespace keyva::test {

// The one reader of the test settings in the environment. Every test takes its seed, its scale and
// its other knobs from here, never from getenv itself:
// - KEYVA_TEST_SEED: the seed of a randomized test (decimal, as the tests print it);
// - KEYVA_TEST_SCALE: a factor (a double: the sanitizer passes use 0.1) on the size of long
//   campaigns; Scaled() applies it with the caller's floor;
// - KEYVA_CRASH_ROUNDS and the like: positive counts that override a scaled default (EnvCount).

// KEYVA_TEST_SEED when set, else fallback (for workloads that run one fixed seed by default).
inline uint64_t TestSeedOr(uint64_t fallback) {
  if (const char* s = std::getenv("KEYVA_TEST_SEED")) return std::strtoull(s, nullptr, 10);
  return fallback;
}

// KEYVA_TEST_SEED when set, else a fresh random seed. Tests print it so a failure replays.
inline uint64_t TestSeed() {
  return TestSeedOr(std::random_device{}() | (uint64_t{std::random_device{}()} << 32));
}

// TestSeed(), printed on stdout as "<what>: KEYVA_TEST_SEED=<seed>" for the tests that print it
// themselves rather than through Catch's INFO.
inline uint64_t PrintedTestSeed(const char* what) {
  const uint64_t seed = TestSeed();
  std::printf("%s: KEYVA_TEST_SEED=%llu\n", what, static_cast<unsigned long long>(seed));
  return seed;
}

// KEYVA_TEST_SCALE (default 1): multiplies the size of long campaigns. A fraction stays one
// (0.1 is 0.1); an unset, unparsable or non-positive value is 1.
inline double TestScale() {
  if (const char* s = std::getenv("KEYVA_TEST_SCALE")) {
    double v = std::strtod(s, nullptr);
    if (v > 0) return v;
  }
  return 1.0;
}

// n x TestScale(), rounded to the nearest integer, and never below min: the size of a campaign
// that is n at scale 1 and still means something at the sanitizer passes' 0.1.
template <typename T>
inline T Scaled(T n, T min) {
  static_assert(std::is_integral_v<T>);
  const auto scaled = static_cast<T>(std::llround(static_cast<double>(n) * TestScale()));
  return std::max(min, scaled);
}

// The positive integer in the environment variable name (e.g. KEYVA_CRASH_ROUNDS), or nullopt
// when it is unset or not a positive integer.
inline std::optional<long> EnvCount(const char* name) {
  const char* s = std::getenv(name);
  if (s == nullptr || *s == '\0') return std::nullopt;
  char* end = nullptr;
  const long v = std::strtol(s, &end, 10);
  if (*end != '\0' || v <= 0) return std::nullopt;
  return v;
}

// A 16-byte key spread over the key space (n scrambled by a multiplicative hash, in hex).
inline std::string Key16(uint64_t n) {
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx",
                static_cast<unsigned long long>(n * 0x9E3779B97F4A7C15ull));
  return std::string(buf, 16);
}

// A 100-byte incompressible value.
inline std::string Value100(std::mt19937_64& rng) {
  std::string v(100, '\0');
  for (size_t i = 0; i < v.size(); i += 8) {
    uint64_t r = rng();
    std::memcpy(&v[i], &r, std::min<size_t>(8, v.size() - i));
  }
  return v;
}

// The process's peak resident set (VmHWM of /proc/self/status) in bytes; 0 when unknown.
inline uint64_t PeakRssBytes() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::strtoull(line.c_str() + 6, nullptr, 10) * 1024;
  }
  return 0;
}

// A fresh directory under the system temp dir, removed when the object dies.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "keyva-test-XXXXXX").string();
    char* made = ::mkdtemp(pattern.data());
    path_ = made ? made : "";
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Total bytes of the regular files in dir, and how many end in suffix.
inline uint64_t DirBytes(const std::string& dir) {
  uint64_t total = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.is_regular_file()) total += e.file_size();
  }
  return total;
}
inline int CountFiles(const std::string& dir, const std::string& suffix) {
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.size() >= suffix.size() &&
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
      n++;
  }
  return n;
}

}  // namespace keyva::test
