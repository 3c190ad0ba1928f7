// Small helpers shared by the test binaries: seeds, scale, temporary directories.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <unistd.h>

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

// A fresh directory under the system temp dir, removed when the object dies.
class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "keyva-test-XXXXXX").string();
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
    if (name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) n++;
  }
  return n;
}

}  // namespace keyva::test
