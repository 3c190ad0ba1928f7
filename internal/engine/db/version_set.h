// Versions and the MANIFEST.
//
// A Version is an immutable set of live SSTs per level. L0 files may overlap and are kept newest
// first (by file number, which grows with every flush); files of L1 and deeper are sorted by key
// and disjoint. Readers and iterators hold a shared_ptr<const Version>, so the files they read stay
// alive (and on disk) while they use them, even after a compaction replaced the version.
//
// VersionSet owns the current Version and the MANIFEST: an append-only log of VersionEdits in WAL
// record framing (wal_writer.h). Every change is appended and fsynced BEFORE it takes effect, so
// after a crash the manifest describes exactly the files that were installed. At open the whole
// state is written into a fresh MANIFEST and CURRENT is switched to it by atomic rename.
//
// Thread safety: owned by the DB's owner thread; not thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "internal/engine/db/dbformat.h"
#include "internal/engine/db/version_edit.h"
#include "internal/engine/env.h"

namespace keyva {

class WalWriter;

struct Version {
  std::array<std::vector<std::shared_ptr<const FileMeta>>, config::kNumLevels> files;

  uint64_t LevelBytes(int level) const;
  int NumFiles(int level) const { return static_cast<int>(files[level].size()); }
  // For level >= 1: index of the first file whose largest key >= internal_key (files.size() if
  // none).
  size_t FindFile(int level, std::string_view internal_key) const;
  // Checks that levels 1+ are sorted and disjoint and every file's smallest <= largest.
  Status CheckInvariants() const;
};

class VersionSet {
 public:
  VersionSet(Env* env, std::string dir);
  ~VersionSet();

  // Reads CURRENT and replays the MANIFEST it names. NotFound when CURRENT does not exist.
  Status Recover();
  // Starts a new, empty database state (no MANIFEST yet; call WriteNewManifest next).
  void InitializeEmpty();
  // Writes the whole current state as the first record of a new MANIFEST, syncs it, points
  // CURRENT at it. Later LogAndApply calls append to it. On an error the old MANIFEST stays in
  // use; when the error came while switching CURRENT (which may or may not have happened), the new
  // file is kept too and needs_new_manifest() turns true.
  Status WriteNewManifest();
  // Records a WAL in the state written by the next WriteNewManifest (used at open, before the
  // new MANIFEST exists; afterwards WALs are registered through LogAndApply edits).
  void RegisterWal(uint64_t number);

  // Appends edit (with the current counters) to the MANIFEST, syncs, then installs the new Version.
  // On error nothing is installed, but the edit may still be in the file (a failed sync says
  // nothing about what reached the disk): the outcome is unknown until a new MANIFEST is written.
  // needs_new_manifest() is then true, and the next LogAndApply first writes the whole state into
  // a new MANIFEST (WriteNewManifest), so a half-appended or uncertain edit is never built upon.
  Status LogAndApply(VersionEdit* edit);

  // After Recover: empty, or a note that the MANIFEST ended in a torn record ("<file>: ends in a
  // torn record after byte N"), normal after a crash during an edit, but also what a truncated
  // MANIFEST looks like; errors about files it should have named mention it.
  const std::string& torn_manifest_note() const { return torn_manifest_note_; }

  // True after a failed MANIFEST write, until a new MANIFEST is in place. While true, files an
  // uncertain edit may name (its SSTs, an older or newer MANIFEST) must not be deleted.
  bool needs_new_manifest() const { return needs_new_manifest_; }

  std::shared_ptr<const Version> current() const { return current_; }
  // The current Version without a reference count (owner thread; valid until the next install).
  const Version* current_ptr() const { return current_.get(); }
  // Grows by one with every installed Version: equal ids mean the same current Version.
  uint64_t current_id() const { return current_id_; }
  uint64_t NewFileNumber() { return next_file_number_++; }
  // Ensures future file numbers are above number (recovery saw it in use).
  void MarkFileNumberUsed(uint64_t number) {
    if (next_file_number_ <= number) next_file_number_ = number + 1;
  }
  uint64_t log_number() const { return log_number_; }
  uint64_t manifest_number() const { return manifest_number_; }
  SequenceNumber last_sequence() const { return last_sequence_; }
  void SetLastSequence(SequenceNumber s) { last_sequence_ = s; }

  // WALs the MANIFEST says exist and may hold unflushed writes (numbers >= log_number()).
  const std::set<uint64_t>& live_wals() const { return live_wals_; }

  // Adds the numbers of every SST referenced by any Version still alive (current or held by a
  // reader) to live.
  void AddLiveFiles(std::set<uint64_t>* live);

 private:
  Status Apply(const VersionEdit& edit, const Version& base, std::shared_ptr<Version>* out) const;
  void Install(std::shared_ptr<Version> v);

  Env* env_;
  std::string dir_;
  std::shared_ptr<const Version> current_;
  uint64_t current_id_ = 0;
  std::vector<std::weak_ptr<const Version>> versions_;  // every Version ever installed, pruned
  uint64_t next_file_number_ = 2;
  uint64_t log_number_ = 0;
  uint64_t manifest_number_ = 0;
  SequenceNumber last_sequence_ = 0;
  std::set<uint64_t> live_wals_;
  std::unique_ptr<WalWriter> manifest_;
  bool needs_new_manifest_ = false;
  std::string torn_manifest_note_;

  void TrackWals(const VersionEdit& edit);
};

}  // namespace keyva
