// POST /api/checkpoint?name=NAME: an online backup. The storage thread writes a consistent copy
// of the database (DB::Checkpoint) into <backup_dir>/NAME, which keyvad --data-dir can open.
//
// Safety: a client never names a path, only NAME: 1..128 of [A-Za-z0-9._-], not starting with
// '.', so the copy always lands directly inside the configured --backup-dir (no '/', no '..').
// The route is disabled (403) unless --backup-dir is set, and needs a token with the admin right
// when tokens are configured (access_route.cc). NAME defaults to checkpoint-<UTC time with
// milliseconds>. An existing NAME is refused with 409; the directory is never overwritten.
//
// Answers 201 {"name", "path", "last_sequence"}: the copy holds every write acknowledged before
// the request, i.e. at least up to last_sequence. Thread-safety: see router.h.
#include <chrono>
#include <ctime>
#include <memory>

#include "internal/server/router.h"

namespace keyva::server {
namespace {

constexpr size_t kMaxCheckpointNameSize = 128;

bool IsValidCheckpointName(std::string_view name) {
  if (name.empty() || name.size() > kMaxCheckpointNameSize || name.front() == '.') return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// checkpoint-20240131T235959.123Z
std::string DefaultCheckpointName() {
  auto now = std::chrono::system_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm utc{};
  gmtime_r(&secs, &utc);
  char buf[64];
  std::strftime(buf, sizeof(buf), "%Y%m%dT%H%M%S", &utc);
  char out[96];
  std::snprintf(out, sizeof(out), "checkpoint-%s.%03dZ", buf, static_cast<int>(ms % 1000));
  return out;
}

}  // namespace

std::optional<Response> Router::CheckCheckpointRequest(const Target& t) const {
  if (config_.backup_dir.empty()) {
    return MakeErrorResponse(http::status::forbidden,
                             "checkpoints are disabled: start keyvad with --backup-dir DIR "
                             "(or KEYVA_BACKUP_DIR) to allow them");
  }
  auto it = t.params.find("name");
  if (it != t.params.end() && !IsValidCheckpointName(it->second)) {
    return MakeErrorResponse(http::status::bad_request,
                             "name must be 1 to 128 letters, digits, '.', '_' or '-', not "
                             "starting with '.'");
  }
  return std::nullopt;
}

void Router::HandleCheckpoint(Target&& t, Responder respond) {
  auto it = t.params.find("name");
  const std::string name = it != t.params.end() ? it->second : DefaultCheckpointName();
  const std::string path = config_.backup_dir + "/" + name;
  struct State {
    Status status;
    uint64_t last_sequence = 0;
  };
  auto state = std::make_shared<State>();
  StorageJob job;
  job.run = [state, path](KvStore& store) {
    state->last_sequence = store.db()->GetStats().last_sequence;
    state->status = store.db()->Checkpoint(path);
    return false;  // Checkpoint syncs the WAL itself
  };
  job.complete = [state, name, path, respond](const Status&) {
    const Status& s = state->status;
    if (s.IsInvalidArgument()) {
      respond(MakeErrorResponse(http::status::conflict,
                                "cannot write checkpoint '" + name + "': " + s.ToString()));
      return;
    }
    if (!s.ok()) {
      respond(MakeEngineErrorResponse(s, "checkpoint '" + name + "' failed"));
      return;
    }
    respond(MakeJsonResponse(
        http::status::created,
        {{"name", name}, {"path", path}, {"last_sequence", state->last_sequence}}));
  };
  Submit(std::move(job), respond);
}

}  // namespace keyva::server
