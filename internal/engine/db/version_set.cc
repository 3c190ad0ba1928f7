#include "internal/engine/db/version_set.h"

#include <algorithm>
#include <utility>

#include "internal/engine/db/filename.h"
#include "internal/engine/wal/wal_reader.h"
#include "internal/engine/wal/wal_writer.h"

namespace keyva {

uint64_t Version::LevelBytes(int level) const {
  uint64_t total = 0;
  for (const auto& f : files[level]) total += f->file_size;
  return total;
}

size_t Version::FindFile(int level, std::string_view internal_key) const {
  const auto& v = files[level];
  size_t lo = 0, hi = v.size();
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (CompareInternalKeys(v[mid]->largest, internal_key) < 0) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}

Status Version::CheckInvariants() const {
  for (int level = 0; level < config::kNumLevels; level++) {
    const auto& v = files[level];
    for (size_t i = 0; i < v.size(); i++) {
      if (CompareInternalKeys(v[i]->smallest, v[i]->largest) > 0) {
        return Status::Corruption("level " + std::to_string(level) + " file " +
                                  std::to_string(v[i]->number) + ": smallest key > largest key");
      }
      if (level > 0 && i > 0 &&
          ExtractUserKey(v[i - 1]->largest).compare(ExtractUserKey(v[i]->smallest)) >= 0) {
        return Status::Corruption("level " + std::to_string(level) + ": files " +
                                  std::to_string(v[i - 1]->number) + " and " +
                                  std::to_string(v[i]->number) + " overlap or are out of order");
      }
    }
  }
  return Status::OK();
}

VersionSet::VersionSet(Env* env, std::string dir)
    : env_(env), dir_(std::move(dir)), current_(std::make_shared<Version>()) {}

VersionSet::~VersionSet() {
  // Every edit was synced when it was logged; closing only releases the descriptor.
  if (manifest_) (void)manifest_->Close();
}

void VersionSet::InitializeEmpty() {
  next_file_number_ = 2;
  log_number_ = 0;
  last_sequence_ = 0;
  Install(std::make_shared<Version>());
}

Status VersionSet::Apply(const VersionEdit& edit, const Version& base,
                         std::shared_ptr<Version>* out) const {
  auto v = std::make_shared<Version>(base);
  for (const auto& [level, number] : edit.deleted_files) {
    auto& files = v->files[level];
    auto it = std::find_if(files.begin(), files.end(),
                           [n = number](const auto& f) { return f->number == n; });
    if (it == files.end()) {
      return Status::Corruption("manifest deletes file " + std::to_string(number) +
                                " which is not in level " + std::to_string(level));
    }
    files.erase(it);
  }
  for (const auto& [level, f] : edit.new_files) {
    for (const auto& files : v->files) {
      for (const auto& existing : files) {
        if (existing->number == f.number) {
          return Status::Corruption("manifest adds file " + std::to_string(f.number) + " twice");
        }
      }
    }
    v->files[level].push_back(std::make_shared<const FileMeta>(f));
  }
  // L0: newest (highest number) first. L1+: by smallest key.
  std::sort(v->files[0].begin(), v->files[0].end(),
            [](const auto& a, const auto& b) { return a->number > b->number; });
  for (int level = 1; level < config::kNumLevels; level++) {
    std::sort(v->files[level].begin(), v->files[level].end(), [](const auto& a, const auto& b) {
      return CompareInternalKeys(a->smallest, b->smallest) < 0;
    });
  }
  *out = std::move(v);
  return Status::OK();
}

void VersionSet::TrackWals(const VersionEdit& edit) {
  live_wals_.insert(edit.new_wals.begin(), edit.new_wals.end());
  live_wals_.erase(live_wals_.begin(), live_wals_.lower_bound(log_number_));
}

void VersionSet::Install(std::shared_ptr<Version> v) {
  current_ = std::move(v);
  current_id_++;
  versions_.erase(
      std::remove_if(versions_.begin(), versions_.end(), [](const auto& w) { return w.expired(); }),
      versions_.end());
  versions_.push_back(current_);
}

Status VersionSet::Recover() {
  std::string current;
  Status s = ReadFileToString(env_, CurrentFileName(dir_), &current);
  if (!s.ok()) return s;
  if (current.size() < 2 || current.back() != '\n' || current.rfind("MANIFEST-", 0) != 0) {
    return Status::Corruption(CurrentFileName(dir_) + ": does not name a MANIFEST");
  }
  current.pop_back();
  uint64_t number;
  if (ParseFileName(current, &number) != FileType::kManifest) {
    return Status::Corruption(CurrentFileName(dir_) + ": bad MANIFEST name '" + current + "'");
  }
  std::string manifest_name = dir_ + "/" + current;
  std::unique_ptr<SequentialFile> file;
  s = env_->NewSequentialFile(manifest_name, &file);
  if (!s.ok()) {
    if (s.IsNotFound()) {
      return Status::Corruption(manifest_name + ": named by CURRENT but missing");
    }
    return s;
  }
  WalReader reader(std::move(file), manifest_name);
  std::string record;
  auto version = std::make_shared<Version>();
  bool have_log = false, have_next = false, have_last = false;
  uint64_t records = 0;
  while (reader.ReadRecord(&record)) {
    VersionEdit edit;
    s = edit.DecodeFrom(record);
    if (s.ok()) s = Apply(edit, *version, &version);
    if (!s.ok()) {
      return Status::Corruption(manifest_name + ": record " + std::to_string(records) + ": " +
                                s.message());
    }
    records++;
    if (edit.log_number) {
      log_number_ = *edit.log_number;
      have_log = true;
    }
    if (edit.next_file_number) {
      next_file_number_ = *edit.next_file_number;
      have_next = true;
    }
    if (edit.last_sequence) {
      last_sequence_ = *edit.last_sequence;
      have_last = true;
    }
    TrackWals(edit);
  }
  if (!reader.status().ok()) return reader.status();
  if (reader.torn_tail()) {
    torn_manifest_note_ = manifest_name + ": ends in a torn record after byte " +
                          std::to_string(reader.valid_bytes()) + " (" + std::to_string(records) +
                          " intact records)";
  }
  if (!have_log || !have_next || !have_last) {
    return Status::Corruption(manifest_name +
                              ": incomplete (no log number, next file number or "
                              "last sequence)");
  }
  MarkFileNumberUsed(number);
  for (const auto& files : version->files) {
    for (const auto& f : files) MarkFileNumberUsed(f->number);
  }
  manifest_number_ = number;
  Install(std::move(version));
  return Status::OK();
}

void VersionSet::RegisterWal(uint64_t number) { live_wals_.insert(number); }

Status VersionSet::WriteNewManifest() {
  uint64_t number = NewFileNumber();
  VersionEdit snapshot;
  snapshot.log_number = log_number_;
  snapshot.next_file_number = next_file_number_;
  snapshot.last_sequence = last_sequence_;
  snapshot.new_wals.assign(live_wals_.begin(), live_wals_.end());
  for (int level = 0; level < config::kNumLevels; level++) {
    for (const auto& f : current_->files[level]) snapshot.AddFile(level, *f);
  }
  std::string record;
  snapshot.EncodeTo(&record);

  std::string name = ManifestFileName(dir_, number);
  std::unique_ptr<WritableFile> file;
  Status s = env_->NewWritableFile(name, &file);
  if (!s.ok()) return s;
  auto writer = std::make_unique<WalWriter>(std::move(file));
  s = writer->AddRecord(record);
  if (s.ok()) s = writer->Sync();
  if (!s.ok()) {
    (void)writer->Close();         // failing already: the file goes
    (void)env_->RemoveFile(name);  // CURRENT never named it (a survivor is an obsolete file)
    return s;
  }
  s = SetCurrentFile(env_, dir_, number);
  if (!s.ok()) {
    // CURRENT may already name the new file (a rename that happened but was not made durable):
    // keep both files, and write yet another MANIFEST before the next edit.
    (void)writer->Close();  // its record is synced; closing only releases the descriptor
    needs_new_manifest_ = true;
    return s;
  }
  if (manifest_) (void)manifest_->Close();  // superseded, and every record of it was synced
  manifest_ = std::move(writer);
  manifest_number_ = number;
  needs_new_manifest_ = false;
  return Status::OK();
}

Status VersionSet::LogAndApply(VersionEdit* edit) {
  if (edit->log_number) {
    if (*edit->log_number < log_number_ || *edit->log_number >= next_file_number_) {
      return Status::InvalidArgument("log number out of range");
    }
  }
  std::shared_ptr<Version> v;
  Status s = Apply(*edit, *current_, &v);
  if (!s.ok()) return s;
  if (needs_new_manifest_ || !manifest_) {
    s = WriteNewManifest();
    if (!s.ok()) return s;
  }
  edit->next_file_number = next_file_number_;
  edit->last_sequence = last_sequence_;
  std::string record;
  edit->EncodeTo(&record);
  s = manifest_->AddRecord(record);
  if (s.ok()) s = manifest_->Sync();
  if (!s.ok()) {
    needs_new_manifest_ = true;
    return s;
  }
  if (edit->log_number) log_number_ = *edit->log_number;
  TrackWals(*edit);
  Install(std::move(v));
  return Status::OK();
}

void VersionSet::AddLiveFiles(std::set<uint64_t>* live) {
  for (const auto& w : versions_) {
    if (auto v = w.lock()) {
      for (const auto& files : v->files) {
        for (const auto& f : files) live->insert(f->number);
      }
    }
  }
}

}  // namespace keyva
