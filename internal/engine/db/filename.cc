#include "internal/engine/db/filename.h"

#include <cstdio>

#include "internal/engine/env.h"

namespace keyva {
namespace {

std::string Numbered(const std::string& dir, uint64_t number, const char* suffix) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "/%06llu.%s", static_cast<unsigned long long>(number), suffix);
  return dir + buf;
}

// Parses a run of decimal digits that is the whole of s.
bool ParseNumber(const std::string& s, uint64_t* number) {
  if (s.empty() || s.size() > 19) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  *number = v;
  return true;
}

}  // namespace

std::string WalFileName(const std::string& dir, uint64_t number) {
  return Numbered(dir, number, "log");
}
std::string SstFileName(const std::string& dir, uint64_t number) {
  return Numbered(dir, number, "sst");
}
std::string TempFileName(const std::string& dir, uint64_t number) {
  return Numbered(dir, number, "tmp");
}
std::string ManifestFileName(const std::string& dir, uint64_t number) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "/MANIFEST-%06llu", static_cast<unsigned long long>(number));
  return dir + buf;
}
std::string CurrentFileName(const std::string& dir) { return dir + "/CURRENT"; }
std::string LockFileName(const std::string& dir) { return dir + "/LOCK"; }

FileType ParseFileName(const std::string& name, uint64_t* number) {
  *number = 0;
  if (name == "CURRENT") return FileType::kCurrent;
  if (name == "LOCK") return FileType::kLock;
  if (name.rfind("MANIFEST-", 0) == 0) {
    return ParseNumber(name.substr(9), number) ? FileType::kManifest : FileType::kUnknown;
  }
  size_t dot = name.find('.');
  if (dot == std::string::npos || !ParseNumber(name.substr(0, dot), number)) {
    return FileType::kUnknown;
  }
  std::string suffix = name.substr(dot + 1);
  if (suffix == "log") return FileType::kWal;
  if (suffix == "sst") return FileType::kSst;
  if (suffix == "tmp") return FileType::kTemp;
  return FileType::kUnknown;
}

Status SetCurrentFile(Env* env, const std::string& dir, uint64_t manifest_number) {
  std::string manifest = ManifestFileName(dir, manifest_number);
  std::string contents = manifest.substr(dir.size() + 1) + "\n";
  std::string tmp = TempFileName(dir, manifest_number);
  Status s = WriteStringToFileSync(env, contents, tmp);
  if (s.ok()) s = env->RenameFile(tmp, CurrentFileName(dir));
  if (s.ok()) s = env->SyncDir(dir);
  if (!s.ok()) (void)env->RemoveFile(tmp);  // best effort: DB open removes temp files too
  return s;
}

}  // namespace keyva
