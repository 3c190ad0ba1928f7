// Small helpers shared by the test binaries: seeds, scale, temporary directories.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

namespace keyva::test {

// KEYVA_TEST_SEED when set, else a fresh random seed. Tests print it so a failure replays.
inline uint64_t TestSeed() {
  if (const char* s = std::getenv("KEYVA_TEST_SEED")) return std::strtoull(s, nullptr, 10);
  return std::random_device{}() | (uint64_t{std::random_device{}()} << 32);
}

// KEYVA_TEST_SCALE (default 1): multiplies the size of long campaigns.
inline double TestScale() {
  if (const char* s = std::getenv("KEYVA_TEST_SCALE")) {
    double v = std::strtod(s, nullptr);
    if (v > 0) return v;
  }
  return 1.0;
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
