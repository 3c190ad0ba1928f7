// Names of the files in a data directory.
//
//   NNNNNN.log       write-ahead log (one per memtable generation)
//   NNNNNN.sst       sorted string table
//   MANIFEST-NNNNNN  log of version edits
//   CURRENT          names the live MANIFEST (replaced by atomic rename)
//   LOCK             flock'ed while a process has the directory open
//   NNNNNN.tmp       a file being written (CURRENT.tmp replacement), removed at open
// All numbers come from one counter (the manifest's next file number).
#pragma once

#include <cstdint>
#include <string>

namespace keyva {

enum class FileType { kWal, kSst, kManifest, kCurrent, kLock, kTemp, kUnknown };

std::string WalFileName(const std::string& dir, uint64_t number);
std::string SstFileName(const std::string& dir, uint64_t number);
std::string ManifestFileName(const std::string& dir, uint64_t number);
std::string CurrentFileName(const std::string& dir);
std::string LockFileName(const std::string& dir);
std::string TempFileName(const std::string& dir, uint64_t number);

// Parses a directory entry name (not a path). kUnknown for anything keyva did not write.
FileType ParseFileName(const std::string& name, uint64_t* number);

// Points CURRENT at MANIFEST-<manifest_number> durably: write a temp file, sync it, rename it over
// CURRENT, sync the directory.
class Env;
class Status;
Status SetCurrentFile(Env* env, const std::string& dir, uint64_t manifest_number);

}  // namespace keyva
