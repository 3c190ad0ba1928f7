// LOCK and UNLOCK of /kv/{key}, and the 423 answer of a write to a locked key (router.h,
// key_lock.h). Both verbs are decided on the storage thread (KvStore::Lock, Unlock), in order
// with the writes they race.
#include <memory>

#include "internal/server/access_tokens.h"
#include "internal/server/entry_json.h"
#include "internal/server/router.h"

namespace keyva::server {
namespace {

std::string Param(const std::map<std::string, std::string>& params, std::string_view name) {
  auto it = params.find(std::string(name));
  return it == params.end() ? std::string() : it->second;
}

}  // namespace

std::optional<Response> Router::LockIdOf(const Target& t, const Request& req, bool with_body,
                                         std::string* id) {
  std::string error;
  if (!RequestLockId(with_body ? std::string_view(req.body()) : std::string_view(),
                     Param(t.params, kLockIdParam), req[kLockIdHeader], id, &error)) {
    return MakeErrorResponse(http::status::bad_request, error);
  }
  return std::nullopt;
}

Response Router::LockedResponse(std::string_view key, const KeyLock& holder,
                                std::string_view doing) {
  nlohmann::ordered_json body = HolderJson(key, holder);
  body["error"] = "the key " + JsonQuote(key) + " is locked by lock id " + JsonQuote(holder.id) +
                  "; " + std::string(doing) +
                  " it needs that lock id (?ID= or X-Keyva-Lock); nothing changed";
  body["status"] = 423;
  return MakeOrderedJsonResponse(http::status::locked, body);
}

void Router::HandleKvLock(Target&& t, Request&& req, Responder respond) {
  struct State {
    std::string key;
    KeyLock request;  // moved into the store by the job
    int64_t ttl = 0;
    LockResult result;
  };
  auto state = std::make_shared<State>();
  std::string error;
  if (!ParseLockRequest(req.body(), Param(t.params, kLockIdParam), &state->request, &error)) {
    respond(MakeErrorResponse(http::status::bad_request, error));
    return;
  }
  if (state->request.id.empty()) state->request.id = NewRandomToken();
  state->key = std::move(t.key);
  state->ttl = t.ttl;
  StorageJob job;
  job.run = [state](KvStore& store) {
    state->result = store.Lock(state->key, std::move(state->request), state->ttl);
    return state->result.wrote;
  };
  job.complete = [state, respond](const Status& sync) {
    const LockResult& r = state->result;
    const std::string& key = state->key;
    if (!r.status.ok()) {
      respond(MakeEngineErrorResponse(r.status, "locking " + JsonQuote(key)));
      return;
    }
    if (!sync.ok()) {
      respond(MakeEngineErrorResponse(sync, "making the lock of " + JsonQuote(key) + " durable"));
      return;
    }
    Response res = r.outcome == LockOutcome::kHeld
                       ? LockedResponse(key, r.lock, "locking")
                       : MakeOrderedJsonResponse(http::status::ok, HolderJson(key, r.lock));
    if (r.outcome != LockOutcome::kHeld) res.set(kLockIdHeader, r.lock.id);
    SetRevision(&res, r.revision);
    respond(std::move(res));
  };
  Submit(std::move(job), respond);
}

void Router::HandleKvUnlock(Target&& t, Request&& req, Responder respond) {
  struct State {
    std::string key;
    std::string id;
    LockResult result;
  };
  auto state = std::make_shared<State>();
  if (std::optional<Response> refused = LockIdOf(t, req, true, &state->id)) {
    respond(std::move(*refused));
    return;
  }
  if (state->id.empty()) {
    respond(MakeErrorResponse(http::status::bad_request,
                              "UNLOCK needs the lock id: the body's \"ID\" (a LockInfo), ?ID= or "
                              "the X-Keyva-Lock header"));
    return;
  }
  state->key = std::move(t.key);
  StorageJob job;
  job.run = [state](KvStore& store) {
    state->result = store.Unlock(state->key, state->id);
    return state->result.wrote;
  };
  job.complete = [state, respond](const Status& sync) {
    const LockResult& r = state->result;
    const std::string& key = state->key;
    if (!r.status.ok()) {
      respond(MakeEngineErrorResponse(r.status, "unlocking " + JsonQuote(key)));
      return;
    }
    if (!sync.ok()) {
      respond(MakeEngineErrorResponse(sync, "making the unlock of " + JsonQuote(key) + " durable"));
      return;
    }
    Response res =
        r.outcome == LockOutcome::kHeld
            ? LockedResponse(key, r.lock, "unlocking")
            : MakeJsonResponse(http::status::ok, {{"key", key},
                                                  {"lock_id", state->id},
                                                  {"unlocked", r.outcome == LockOutcome::kReleased},
                                                  {"revision", r.revision}});
    SetRevision(&res, r.revision);
    respond(std::move(res));
  };
  Submit(std::move(job), respond);
}

}  // namespace keyva::server
