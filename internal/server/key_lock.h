// KeyLock: a lock on a /kv key that clients coordinate through (LOCK / UNLOCK, Terraform's http
// state backend) — its record in the engine, the holder document a client sends, and the
// decisions about who may lock, unlock and write.
//
// A lock is held by a lock id. The holder document is a JSON object the client sends with LOCK
// (Terraform's LockInfo: {"ID","Operation","Info","Who","Version","Created","Path"}); its "ID"
// is the lock id, or, when it has none, the request's ?ID=, or else keyvad makes one. The
// document is kept as the client sent it and shown to whoever finds the key locked.
//
// Engine key: 'l' + key (beside kv_store.h's 'k' values), so listings, watches and the web page
// never meet a lock, and checkpoints copy it with the rest. The engine value is the JSON text
// {"id","document","created_us","expires_us"} (document: the holder document's text).
//
// A lock with a TTL is as if absent once it passes (HeldAt); its record stays until the next
// LOCK or UNLOCK of the key replaces or removes it.
//
// Thread-safety: pure functions and plain data.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace keyva::server {

inline constexpr char kLockKeyPrefix = 'l';
// The largest holder document, and the longest lock id.
inline constexpr size_t kMaxLockDocumentSize = 64 * 1024;
inline constexpr size_t kMaxLockIdSize = 256;
// The header a write (or UNLOCK) may carry its lock id in, instead of ?ID=.
inline constexpr std::string_view kLockIdHeader = "X-Keyva-Lock";
// The query parameter of the lock id (Terraform appends ?ID=<lock id> to its writes).
inline constexpr std::string_view kLockIdParam = "ID";

// The engine key of the lock on key.
std::string LockKey(std::string_view key);

struct KeyLock {
  std::string id;
  std::string document;    // the holder document's JSON text
  int64_t created_us = 0;  // when this holder took it (a refresh keeps it)
  int64_t expires_us = 0;  // 0: held until UNLOCK

  bool HeldAt(int64_t now_us) const { return expires_us == 0 || now_us < expires_us; }
};

// The engine value of lock, and back. DecodeLockRecord is false when value is not a record.
std::string EncodeLockRecord(const KeyLock& lock);
bool DecodeLockRecord(std::string_view value, KeyLock* out);

// A LOCK request's holder document and lock id, from its body and its ?ID= (empty: none).
// False and *error when the body is not a JSON object of at most kMaxLockDocumentSize bytes,
// has a member keyva uses in its answers ("error", "status", "keyva"), has an "ID" that is not
// a string of 1 to kMaxLockIdSize bytes, or its "ID" and ?ID= differ. out->id is empty when
// neither names one (the caller makes one). out->document is body.
bool ParseLockRequest(std::string_view body, std::string_view query_id, KeyLock* out,
                      std::string* error);

// The lock id an UNLOCK (body: a LockInfo, or empty) or a write names, from the body's "ID",
// ?ID= and the X-Keyva-Lock header (each empty when absent). Empty when none does. False and
// *error when a non-empty body is not a JSON object, its "ID" is not a string, an id is longer
// than kMaxLockIdSize, or two of them differ.
bool RequestLockId(std::string_view body, std::string_view query_id, std::string_view header_id,
                   std::string* id, std::string* error);

enum class LockOutcome {
  kAcquired,   // LOCK: nobody held it; now id does
  kRefreshed,  // LOCK by the holder's own id: document and TTL replaced, still held
  kHeld,       // LOCK or UNLOCK: another id holds it (nothing changes)
  kReleased,   // UNLOCK by the holder's id
  kNotLocked,  // UNLOCK: nobody held it (nothing changes)
};

// The decisions, given the key's lock record (nullopt: none) at now_us.
LockOutcome DecideLock(const std::optional<KeyLock>& current, std::string_view id, int64_t now_us);
LockOutcome DecideUnlock(const std::optional<KeyLock>& current, std::string_view id,
                         int64_t now_us);
// Whether a write naming lock_id (empty: none) may change the key: always when no lock is held,
// else only with the holder's id.
bool WriteAllowed(const std::optional<KeyLock>& current, std::string_view lock_id, int64_t now_us);

// What a client is shown of a lock: the holder document's members in their order, then
// "keyva": {"lock_id","key","created","expires" (ISO 8601, when it has a TTL)}.
nlohmann::ordered_json HolderJson(std::string_view key, const KeyLock& lock);

}  // namespace keyva::server
