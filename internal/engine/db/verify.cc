// The offline checker behind `keyva verify`; see verify.h.
#include "internal/engine/verify.h"

#include <algorithm>
#include <map>
#include <set>

#include "internal/engine/db/filename.h"
#include "internal/engine/db/live_files.h"
#include "internal/engine/db/version_set.h"
#include "internal/engine/table/sst_reader.h"
#include "internal/engine/wal/wal_reader.h"
#include "internal/engine/write_batch.h"

namespace keyva {
namespace {

std::string Bytes(uint64_t n) {
  const char* units[] = {"bytes", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(n);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    u++;
  }
  char buf[64];
  if (u == 0) {
    std::snprintf(buf, sizeof(buf), "%llu bytes", static_cast<unsigned long long>(n));
  } else {
    std::snprintf(buf, sizeof(buf), "%.1f %s", v, units[u]);
  }
  return buf;
}

// Checks one SST: size (against expected_size unless 0), footer, index, filter, every block.
void CheckSst(Env* env, const std::string& dir, uint64_t number, uint64_t expected_size,
              VerifyReport* r) {
  std::string name = SstFileName(dir, number);
  bool exists;
  uint64_t size;
  Status s = CheckLiveSst(env, name, expected_size, &exists, &size);
  if (exists) {
    r->sst_files++;
    r->sst_bytes += size;
  }
  if (!s.ok()) {
    r->problems.push_back(s.IsCorruption() ? s.message() : s.ToString());
    return;
  }
  std::unique_ptr<RandomAccessFile> file;
  s = env->NewRandomAccessFile(name, &file);
  std::shared_ptr<SstReader> reader;
  if (s.ok()) s = SstReader::Open(std::move(file), size, number, name, nullptr, &reader);
  if (s.ok()) s = reader->VerifyChecksums();
  if (!s.ok()) r->problems.push_back(s.ToString());
}

// Reads every record of a WAL; each must decode as a write batch (as recovery would).
void CheckWal(Env* env, const std::string& dir, uint64_t number, VerifyReport* r) {
  std::string name = WalFileName(dir, number);
  std::unique_ptr<SequentialFile> file;
  Status s = env->NewSequentialFile(name, &file);
  if (!s.ok()) {
    r->problems.push_back(s.ToString());
    return;
  }
  uint64_t size = 0;
  (void)env->GetFileSize(name, &size);  // only for the report: 0 when unknown
  r->wal_files++;
  r->wal_bytes += size;
  WalReplay replay;
  s = ReadWalBatches(
      std::move(file), name,
      [r](const WriteBatch& batch) {
        Status is = batch.Iterate(
            [](ValueType, std::string_view, std::string_view) { return Status::OK(); });
        if (is.ok() && batch.Count() > 0) {
          r->last_sequence =
              std::max<uint64_t>(r->last_sequence, batch.Sequence() + batch.Count() - 1);
        }
        return is;
      },
      &replay);
  if (replay.bad_batch) {
    r->problems.push_back(name + ": record " + std::to_string(replay.records) +
                          " at or before offset " + std::to_string(replay.valid_bytes) +
                          " is not a write batch (" + s.message() + ")");
    return;
  }
  r->wal_records += replay.records;
  if (!s.ok()) {
    r->problems.push_back(s.ToString() + " (" + std::to_string(replay.records) +
                          " intact records before it)");
  } else if (replay.torn_tail) {
    r->warnings.push_back(name + ": torn tail after byte " + std::to_string(replay.valid_bytes) +
                          " of " + std::to_string(size) +
                          " (an interrupted append; the next open truncates it)");
  }
}

}  // namespace

std::string VerifyReport::Summary() const {
  std::string out;
  if (!manifest.empty()) {
    out += "  " + manifest + ": " + std::to_string(manifest_records) + " records, " +
           (manifest_ok ? "OK" : "DAMAGED") + "\n";
  } else {
    out += "  CURRENT/MANIFEST: unreadable\n";
  }
  out += "  SST files: " + std::to_string(sst_files) + " (" + Bytes(sst_bytes) + ")\n";
  out += "  WAL files: " + std::to_string(wal_files) + " (" + std::to_string(wal_records) +
         " records, " + Bytes(wal_bytes) + ")\n";
  out += "  last sequence: " + std::to_string(last_sequence) + "\n";
  for (const auto& w : warnings) out += "  warning: " + w + "\n";
  for (const auto& p : problems) out += "  PROBLEM: " + p + "\n";
  out += problems.empty() ? "result: OK, every checksum verified\n"
                          : "result: DAMAGED (" + std::to_string(problems.size()) + " problem" +
                                (problems.size() == 1 ? "" : "s") + ")\n";
  return out;
}

Status VerifyDataDir(Env* env, const std::string& dir_in, VerifyReport* r) {
  *r = VerifyReport();
  std::string dir =
      dir_in.size() > 1 && dir_in.back() == '/' ? dir_in.substr(0, dir_in.size() - 1) : dir_in;
  std::vector<std::string> children;
  Status s = env->GetChildren(dir, &children);
  if (!s.ok()) return s;
  std::set<uint64_t> ssts, wals;
  bool has_current = false;
  for (const auto& c : children) {
    uint64_t number;
    switch (ParseFileName(c, &number)) {
      case FileType::kSst:
        ssts.insert(number);
        break;
      case FileType::kWal:
        wals.insert(number);
        break;
      case FileType::kCurrent:
        has_current = true;
        break;
      default:
        break;
    }
  }
  if (!has_current && ssts.empty() && wals.empty()) {
    return Status::NotFound(dir + ": no database here (no CURRENT, no data files)");
  }

  // CURRENT and the MANIFEST: count records and notice a torn tail, then replay them.
  std::string current;
  if (!has_current) {
    r->problems.push_back(CurrentFileName(dir) + ": missing (data files exist without it)");
  } else if (ReadFileToString(env, CurrentFileName(dir), &current).ok() && current.size() > 1 &&
             current.back() == '\n') {
    current.pop_back();
    r->manifest = current;
    std::unique_ptr<SequentialFile> file;
    if (env->NewSequentialFile(dir + "/" + current, &file).ok()) {
      WalReader reader(std::move(file), dir + "/" + current);
      std::string record;
      while (reader.ReadRecord(&record)) r->manifest_records++;
      if (reader.torn_tail()) {
        r->warnings.push_back(dir + "/" + current + ": torn tail after byte " +
                              std::to_string(reader.valid_bytes()) +
                              " (an interrupted edit; the next open ignores it)");
      }
    }
  }
  VersionSet versions(env, dir);
  if (has_current) {
    s = versions.Recover();
    if (!s.ok()) {
      r->problems.push_back(s.IsNotFound() ? CurrentFileName(dir) + ": " + s.message()
                                           : s.ToString());
    } else {
      r->manifest_ok = true;
    }
  }

  if (r->manifest_ok) {
    r->last_sequence = versions.last_sequence();
    std::set<uint64_t> live;
    auto version = versions.current();
    Status inv = version->CheckInvariants();
    if (!inv.ok()) r->problems.push_back(dir + "/" + r->manifest + ": " + inv.message());
    for (const auto& level : version->files) {
      for (const auto& f : level) {
        live.insert(f->number);
        CheckSst(env, dir, f->number, f->file_size, r);
      }
    }
    for (uint64_t n : ssts) {
      if (!live.count(n)) {
        r->warnings.push_back(SstFileName(dir, n) +
                              ": not named by the MANIFEST (left by an interrupted flush or "
                              "compaction; the next open removes it); not checked");
      }
    }
    for (uint64_t w : versions.live_wals()) {
      if (!wals.count(w)) r->problems.push_back(NamedButMissing(WalFileName(dir, w)).message());
    }
    for (uint64_t w : wals) {
      if (w >= versions.log_number()) CheckWal(env, dir, w, r);
    }
    if (!r->ok() && !versions.torn_manifest_note().empty()) {
      r->problems.push_back(
          versions.torn_manifest_note() +
          ": the MANIFEST may be truncated (which would explain the files above)");
    }
  } else {
    // Without a MANIFEST, check every data file on its own.
    for (uint64_t n : ssts) CheckSst(env, dir, n, 0, r);
    for (uint64_t w : wals) CheckWal(env, dir, w, r);
  }
  return Status::OK();
}

Status LockDataDirShared(Env* env, const std::string& dir, std::unique_ptr<FileLock>* lock) {
  lock->reset();
  Status s = env->LockFileShared(LockFileName(dir), lock);
  if (s.IsNotFound()) return Status::OK();
  return s;
}

}  // namespace keyva
