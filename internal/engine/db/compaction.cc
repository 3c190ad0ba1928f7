#include "internal/engine/db/compaction.h"

#include <algorithm>

namespace keyva {
namespace {

// User-key range covered by files.
void RangeOf(const std::vector<std::shared_ptr<const FileMeta>>& files, std::string* smallest,
             std::string* largest) {
  for (size_t i = 0; i < files.size(); i++) {
    std::string_view s = ExtractUserKey(files[i]->smallest), l = ExtractUserKey(files[i]->largest);
    if (i == 0 || s < *smallest) smallest->assign(s);
    if (i == 0 || l > *largest) largest->assign(l);
  }
}

bool Overlaps(const FileMeta& f, const std::string* begin, const std::string* end) {
  if (end && ExtractUserKey(f.smallest) > std::string_view(*end)) return false;
  if (begin && ExtractUserKey(f.largest) < std::string_view(*begin)) return false;
  return true;
}

std::vector<std::shared_ptr<const FileMeta>> OverlappingFiles(const Version& v, int level,
                                                              const std::string& smallest,
                                                              const std::string& largest) {
  std::vector<std::shared_ptr<const FileMeta>> out;
  for (const auto& f : v.files[level]) {
    if (Overlaps(*f, &smallest, &largest)) out.push_back(f);
  }
  return out;
}

}  // namespace

uint64_t CompactionPlan::InputBytes() const {
  uint64_t total = 0;
  for (const auto& side : inputs) {
    for (const auto& f : side) total += f->file_size;
  }
  return total;
}

uint64_t MaxBytesForLevel(int level) {
  uint64_t bytes = config::kL1MaxBytes;
  for (int l = 1; l < level; l++) bytes *= config::kLevelSizeMultiplier;
  return bytes;
}

uint64_t LevelTarget(const Version& v, int level) {
  int last = 0;
  for (int l = 1; l < config::kNumLevels; l++) {
    if (v.NumFiles(l) > 0) last = l;
  }
  if (level >= last) return MaxBytesForLevel(level);
  uint64_t target = v.LevelBytes(last);
  for (int l = last; l > level; l--) target /= config::kLevelSizeMultiplier;
  return std::max<uint64_t>(target, config::kL1MaxBytes);
}

std::unique_ptr<CompactionPlan> CompactionPicker::Expand(
    const Version& v, int level, std::vector<std::shared_ptr<const FileMeta>> inputs) {
  auto plan = std::make_unique<CompactionPlan>();
  plan->level = level;
  std::string smallest, largest;
  RangeOf(inputs, &smallest, &largest);
  plan->inputs[0] = std::move(inputs);
  plan->inputs[1] = OverlappingFiles(v, level + 1, smallest, largest);
  RangeOf(plan->inputs[0], &smallest, &largest);
  if (!plan->inputs[1].empty()) {
    std::string s2, l2;
    RangeOf(plan->inputs[1], &s2, &l2);
    smallest = std::min(smallest, s2);
    largest = std::max(largest, l2);
  }
  plan->bottommost = true;
  for (int below = level + 2; below < config::kNumLevels && plan->bottommost; below++) {
    plan->bottommost = OverlappingFiles(v, below, smallest, largest).empty();
  }
  plan->trivial_move = level > 0 && plan->inputs[0].size() == 1 && plan->inputs[1].empty();
  compact_pointer_[level] = largest;
  return plan;
}

std::unique_ptr<CompactionPlan> CompactionPicker::Pick(const Version& v) {
  int best_level = -1;
  double best = 1.0;
  double l0 = static_cast<double>(v.NumFiles(0)) / config::kL0CompactionTrigger;
  if (l0 >= best) {
    best = l0;
    best_level = 0;
  }
  for (int level = 1; level < config::kNumLevels - 1; level++) {
    double score = static_cast<double>(v.LevelBytes(level)) / LevelTarget(v, level);
    if (score >= best) {
      best = score;
      best_level = level;
    }
  }
  if (best_level < 0) return nullptr;
  if (best_level == 0) return Expand(v, 0, v.files[0]);
  // The first file after the compact pointer, wrapping around.
  const auto& files = v.files[best_level];
  const std::string& pointer = compact_pointer_[best_level];
  auto it = std::find_if(files.begin(), files.end(), [&](const auto& f) {
    return pointer.empty() || ExtractUserKey(f->smallest) > std::string_view(pointer);
  });
  if (it == files.end()) it = files.begin();
  return Expand(v, best_level, {*it});
}

std::unique_ptr<CompactionPlan> CompactionPicker::PickFile(const Version& v, int level,
                                                           std::shared_ptr<const FileMeta> f) {
  if (level >= config::kNumLevels - 1) return nullptr;
  if (level == 0) return Expand(v, 0, v.files[0]);  // all of L0 (see the file comment)
  return Expand(v, level, {std::move(f)});
}

std::unique_ptr<CompactionPlan> CompactionPicker::PickRange(const Version& v, int level,
                                                            const std::string* begin,
                                                            const std::string* end) {
  if (level >= config::kNumLevels - 1) return nullptr;
  std::vector<std::shared_ptr<const FileMeta>> inputs;
  bool any = false;
  for (const auto& f : v.files[level]) any = any || Overlaps(*f, begin, end);
  if (!any) return nullptr;
  if (level == 0) {
    inputs = v.files[0];  // all of L0 (see the file comment)
  } else {
    for (const auto& f : v.files[level]) {
      if (Overlaps(*f, begin, end)) inputs.push_back(f);
    }
  }
  auto plan = Expand(v, level, std::move(inputs));
  plan->trivial_move = false;  // a manual compaction rewrites, so tombstones can go
  return plan;
}

}  // namespace keyva
