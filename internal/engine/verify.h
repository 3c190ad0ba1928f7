// VerifyDataDir: an offline check of every checksum of a data directory (keyva verify).
//
// Reads, never writes: CURRENT and the MANIFEST it names (every record's checksum, every edit
// decodes and applies), every live SST (its size against the MANIFEST, its footer, index and
// filter, every data block's checksum and structure, the order of its keys) and every WAL that
// recovery would replay (every record's checksum, every batch decodes). When the MANIFEST cannot
// be read, every *.sst and *.log file in the directory is checked on its own instead.
//
// A torn WAL or MANIFEST tail (the normal result of a crash in the middle of an append) is a
// warning, not a problem: the next open truncates (WAL) or ignores (MANIFEST) it.
//
// The caller makes sure no process writes the directory meanwhile: keyva verify holds
// LockDataDirShared's lock, which a running keyvad's exclusive lock (DB::Open) refuses.
//
// Thread safety: a plain function; uses only env and its arguments.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "internal/engine/env.h"
#include "internal/engine/status.h"

namespace keyva {

struct VerifyReport {
  // One line per problem ("<file>: <what is wrong>"); empty when the directory is sound.
  std::vector<std::string> problems;
  // Things worth knowing that are not damage (torn tails, orphan files).
  std::vector<std::string> warnings;
  std::string manifest;  // the MANIFEST CURRENT names ("" when CURRENT is unreadable)
  bool manifest_ok = false;
  uint64_t manifest_records = 0;
  uint64_t sst_files = 0;
  uint64_t sst_bytes = 0;
  uint64_t wal_files = 0;
  uint64_t wal_records = 0;
  uint64_t wal_bytes = 0;
  uint64_t last_sequence = 0;  // highest sequence in the MANIFEST or any WAL record

  bool ok() const { return problems.empty(); }
  // A multi-line human summary (files checked, problems, warnings).
  std::string Summary() const;
};

// Checks the database in dir (see the file comment). Returns OK when the check ran (its findings
// are in *report, even when they are problems); NotFound when dir holds no database (no CURRENT
// and no data files); IOError when the directory cannot be listed.
Status VerifyDataDir(Env* env, const std::string& dir, VerifyReport* report);

// Takes a shared lock on dir's LOCK file (Env::LockFileShared), so that no DB can open dir while
// *lock is held. OK with *lock set; OK with *lock null when dir has no LOCK file (no DB was ever
// opened there, so there is nothing to exclude); Busy when a process has the DB open; the Env's
// error (naming the LOCK file) otherwise.
Status LockDataDirShared(Env* env, const std::string& dir, std::unique_ptr<FileLock>* lock);

}  // namespace keyva
