// Compaction planning: which files to merge next, and into which level.
//
// Leveled compaction. L0 files overlap each other, so an L0 compaction always takes EVERY L0 file
// (taking only some could move a newer version of a key below an older one still in L0) plus the
// L1 files overlapping them. A compaction from level n >= 1 takes one file of level n (round-robin
// through the key space, like LevelDB's compact pointer) plus the overlapping files of level n+1.
// When level n+1 has no overlapping file and level n contributes one file, the file is simply moved
// (a MANIFEST edit, no I/O).
//
// Scores: L0 = files / kL0CompactionTrigger; level n >= 1 = bytes / MaxBytesForLevel(n). The
// highest score >= 1 is compacted first.
#pragma once

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "internal/engine/version_set.h"

namespace keyva {

struct CompactionPlan {
  int level = 0;                                            // input level; output is level + 1
  std::vector<std::shared_ptr<const FileMeta>> inputs[2];  // [0] from level, [1] from level + 1
  bool trivial_move = false;
  // No level below the output holds data in the inputs' key range: tombstones and expired values
  // in the oldest snapshot stripe can be dropped.
  bool bottommost = false;

  int output_level() const { return level + 1; }
  uint64_t InputBytes() const;
};

uint64_t MaxBytesForLevel(int level);

class CompactionPicker {
 public:
  // The most urgent automatic compaction, or nullptr when every score is below 1.
  std::unique_ptr<CompactionPlan> Pick(const Version& v);
  // A manual compaction of level's files overlapping the user-key range [begin, end] (nullptr =
  // unbounded) into level + 1; nullptr when level holds no such file.
  std::unique_ptr<CompactionPlan> PickRange(const Version& v, int level, const std::string* begin,
                                            const std::string* end);
  // The largest score (>= 1 means a compaction is due).
  static double MaxScore(const Version& v);

 private:
  std::unique_ptr<CompactionPlan> Expand(const Version& v, int level,
                                         std::vector<std::shared_ptr<const FileMeta>> inputs);
  std::array<std::string, config::kNumLevels> compact_pointer_;  // largest key last compacted
};

}  // namespace keyva
