// Lock records, holder documents and lock decisions; see key_lock.h.
#include "internal/server/key_lock.h"

#include "internal/server/http_date.h"

namespace keyva::server {
namespace {

constexpr std::string_view kReservedMembers[] = {"error", "status", "keyva"};

// The body as a JSON object; false and *error otherwise.
bool ParseObject(std::string_view body, const char* what, nlohmann::ordered_json* out,
                 std::string* error) {
  *out = nlohmann::ordered_json::parse(body, nullptr, false);
  if (out->is_discarded() || !out->is_object()) {
    *error = std::string(what) + " must be a JSON object";
    return false;
  }
  return true;
}

// The object's "ID" into *id ("" when absent); false and *error when it is not a string.
bool MemberId(const nlohmann::ordered_json& object, const char* what, std::string* id,
              std::string* error) {
  auto it = object.find(kLockIdParam);
  if (it == object.end()) return true;
  if (!it->is_string()) {
    *error = std::string("the \"ID\" of ") + what + " must be a string";
    return false;
  }
  *id = it->get<std::string>();
  return true;
}

// Merges candidate into *id: false and *error when both are set and differ, or it is too long.
bool MergeId(std::string_view candidate, const char* source, std::string* id, std::string* error) {
  if (candidate.empty()) return true;
  if (candidate.size() > kMaxLockIdSize) {
    *error = std::string("the lock id in ") + source + " is longer than " +
             std::to_string(kMaxLockIdSize) + " bytes";
    return false;
  }
  if (!id->empty() && *id != candidate) {
    *error = std::string("the lock id in ") + source + " differs from the one given elsewhere";
    return false;
  }
  *id = std::string(candidate);
  return true;
}

}  // namespace

std::string LockKey(std::string_view key) {
  std::string k;
  k.reserve(key.size() + 1);
  k.push_back(kLockKeyPrefix);
  k.append(key.data(), key.size());
  return k;
}

std::string EncodeLockRecord(const KeyLock& lock) {
  nlohmann::json j = {{"id", lock.id},
                      {"document", lock.document},
                      {"created_us", lock.created_us},
                      {"expires_us", lock.expires_us}};
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

bool DecodeLockRecord(std::string_view value, KeyLock* out) {
  nlohmann::json j = nlohmann::json::parse(value, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return false;
  auto id = j.find("id"), document = j.find("document"), created = j.find("created_us"),
       expires = j.find("expires_us");
  if (id == j.end() || !id->is_string() || document == j.end() || !document->is_string() ||
      created == j.end() || !created->is_number_integer() || expires == j.end() ||
      !expires->is_number_integer()) {
    return false;
  }
  out->id = id->get<std::string>();
  out->document = document->get<std::string>();
  out->created_us = created->get<int64_t>();
  out->expires_us = expires->get<int64_t>();
  return true;
}

bool ParseLockRequest(std::string_view body, std::string_view query_id, KeyLock* out,
                      std::string* error) {
  if (body.size() > kMaxLockDocumentSize) {
    *error =
        "the holder document is larger than " + std::to_string(kMaxLockDocumentSize) + " bytes";
    return false;
  }
  nlohmann::ordered_json doc;
  if (!ParseObject(body, "a LOCK's body (the holder document)", &doc, error)) return false;
  for (std::string_view member : kReservedMembers) {
    if (doc.contains(member)) {
      *error = "the holder document may not have a member \"" + std::string(member) +
               "\": keyvad uses it in its answers";
      return false;
    }
  }
  std::string doc_id;
  if (!MemberId(doc, "the holder document", &doc_id, error)) return false;
  if (doc.contains(kLockIdParam) && doc_id.empty()) {
    *error = "the \"ID\" of the holder document is empty";
    return false;
  }
  out->id.clear();
  if (!MergeId(doc_id, "the holder document", &out->id, error) ||
      !MergeId(query_id, "?ID=", &out->id, error)) {
    return false;
  }
  out->document = std::string(body);
  return true;
}

bool RequestLockId(std::string_view body, std::string_view query_id, std::string_view header_id,
                   std::string* id, std::string* error) {
  id->clear();
  std::string body_id;
  if (!body.empty()) {
    nlohmann::ordered_json doc;
    if (!ParseObject(body, "the body (a LockInfo, or none)", &doc, error) ||
        !MemberId(doc, "the body", &body_id, error)) {
      return false;
    }
  }
  return MergeId(body_id, "the body", id, error) && MergeId(query_id, "?ID=", id, error) &&
         MergeId(header_id, "X-Keyva-Lock", id, error);
}

LockOutcome DecideLock(const std::optional<KeyLock>& current, std::string_view id, int64_t now_us) {
  if (!current || !current->HeldAt(now_us)) return LockOutcome::kAcquired;
  return current->id == id ? LockOutcome::kRefreshed : LockOutcome::kHeld;
}

LockOutcome DecideUnlock(const std::optional<KeyLock>& current, std::string_view id,
                         int64_t now_us) {
  if (!current || !current->HeldAt(now_us)) return LockOutcome::kNotLocked;
  return current->id == id ? LockOutcome::kReleased : LockOutcome::kHeld;
}

bool WriteAllowed(const std::optional<KeyLock>& current, std::string_view lock_id, int64_t now_us) {
  return !current || !current->HeldAt(now_us) || current->id == lock_id;
}

nlohmann::ordered_json HolderJson(std::string_view key, const KeyLock& lock) {
  nlohmann::ordered_json j = nlohmann::ordered_json::parse(lock.document, nullptr, false);
  if (j.is_discarded() || !j.is_object()) j = nlohmann::ordered_json::object();
  nlohmann::ordered_json keyva = {
      {"lock_id", lock.id}, {"key", key}, {"created", FormatIso8601(lock.created_us)}};
  if (lock.expires_us != 0) keyva["expires"] = FormatIso8601(lock.expires_us);
  j["keyva"] = std::move(keyva);
  return j;
}

}  // namespace keyva::server
