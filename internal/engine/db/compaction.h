// Compaction planning: which files to merge next, and into which level.
//
// Leveled compaction. L0 files overlap each other, so an L0 compaction always takes EVERY L0 file
// (taking only some could move a newer version of a key below an older one still in L0) plus the
// L1 files overlapping them. A compaction from level n >= 1 takes one file of level n (round-robin
// through the key space, like LevelDB's compact pointer) plus the overlapping files of level n+1.
// When level n+1 has no overlapping file and level n contributes one file, the file is simply moved
// (a MANIFEST edit, no I/O).
//
// Seek compaction (LevelDB's allowed_seeks): when no score is due, a file that point lookups keep
// going past (the DB counts them) is compacted into the next level (PickFile), so read-mostly data
// settles into fewer sorted runs.
//
// Scores: L0 = files / kL0CompactionTrigger; level n >= 1 = bytes / LevelTarget(v, n). The
// highest score >= 1 is compacted first.
//
// Level targets are dynamic (like RocksDB's level_compaction_dynamic_level_bytes): the deepest
// non-empty level keeps its static target MaxBytesForLevel, and each level above it targets a tenth
// of the level below, never less than kL1MaxBytes. With static targets, 232 MB of live data spread
// as L1 10 MB + L2 100 MB + L3 122 MB could hold 110 MB of stale versions (1.47x the live data);
// tying the upper levels to the actual bottom keeps them near a tenth of it (~1.1x).
#pragma once

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "internal/engine/db/version_set.h"

namespace keyva {

struct CompactionPlan {
  int level = 0;                                           // input level; output is level + 1
  std::vector<std::shared_ptr<const FileMeta>> inputs[2];  // [0] from level, [1] from level + 1
  bool trivial_move = false;
  // No level below the output holds data in the inputs' key range: tombstones and expired values
  // in the oldest snapshot stripe can be dropped.
  bool bottommost = false;

  int output_level() const { return level + 1; }
  uint64_t InputBytes() const;
};

// The static target of a level: kL1MaxBytes x kLevelSizeMultiplier^(level - 1).
uint64_t MaxBytesForLevel(int level);
// The target of level (>= 1) in v (see the file comment).
uint64_t LevelTarget(const Version& v, int level);

class CompactionPicker {
 public:
  // The most urgent automatic compaction, or nullptr when every score is below 1.
  std::unique_ptr<CompactionPlan> Pick(const Version& v);
  // A manual compaction of level's files overlapping the user-key range [begin, end] (nullptr =
  // unbounded) into level + 1; nullptr when level holds no such file.
  std::unique_ptr<CompactionPlan> PickRange(const Version& v, int level, const std::string* begin,
                                            const std::string* end);
  // A compaction of file f of level into level + 1 (every L0 file when level is 0), for a file
  // that reads keep going past (seek compaction).
  std::unique_ptr<CompactionPlan> PickFile(const Version& v, int level,
                                           std::shared_ptr<const FileMeta> f);

 private:
  std::unique_ptr<CompactionPlan> Expand(const Version& v, int level,
                                         std::vector<std::shared_ptr<const FileMeta>> inputs);
  std::array<std::string, config::kNumLevels> compact_pointer_;  // largest key last compacted
};

}  // namespace keyva
