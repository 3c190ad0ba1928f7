// The response-memory budget and value sharing; see response_memory.h.
#include "internal/server/response_memory.h"

#include <mutex>
#include <unordered_map>

namespace keyva::server {

struct ResponseMemory::State {
  explicit State(uint64_t b) : budget(b) {}
  const uint64_t budget;
  std::atomic<uint64_t> held{0};
  std::atomic<uint64_t> shared{0};
  std::atomic<uint64_t> refused{0};
  std::mutex mu;
  // key + '\0' + etag -> the bytes in flight; entries whose bytes are gone are erased by the
  // releasing deleter.
  std::unordered_map<std::string, std::weak_ptr<const std::string>> live;  // guarded by mu
};

namespace {

// The map key of a value in flight: key + '\0' + etag.
std::string LiveId(std::string_view key, std::string_view etag) {
  std::string id;
  id.reserve(key.size() + 1 + etag.size());
  id.append(key).push_back('\0');
  id.append(etag);
  return id;
}

}  // namespace

ResponseMemory::ResponseMemory(uint64_t budget_bytes)
    : state_(std::make_shared<State>(budget_bytes)) {}

ResponseMemory::~ResponseMemory() = default;

std::shared_ptr<const std::string> ResponseMemory::Share(std::string_view key,
                                                         std::string_view etag, std::string value) {
  if (value.size() < kShareMinBytes) return std::make_shared<const std::string>(std::move(value));
  std::string id = LiveId(key, etag);
  std::lock_guard<std::mutex> lock(state_->mu);
  auto it = state_->live.find(id);
  if (it != state_->live.end()) {
    if (std::shared_ptr<const std::string> held = it->second.lock()) {
      state_->shared.fetch_add(1, std::memory_order_relaxed);
      return held;  // the fresh copy in value is dropped on return
    }
  }
  const uint64_t size = value.size();
  const uint64_t held = state_->held.load(std::memory_order_relaxed);
  if (held > 0 && held + size > state_->budget) {
    state_->refused.fetch_add(1, std::memory_order_relaxed);
    return nullptr;
  }
  state_->held.fetch_add(size, std::memory_order_relaxed);
  // The deleter returns the charge and forgets the entry; it keeps the state alive itself.
  std::shared_ptr<const std::string> bytes(
      new std::string(std::move(value)), [state = state_, id, size](const std::string* s) {
        delete s;
        state->held.fetch_sub(size, std::memory_order_relaxed);
        std::lock_guard<std::mutex> lock(state->mu);
        auto entry = state->live.find(id);
        if (entry != state->live.end() && entry->second.expired()) state->live.erase(entry);
      });
  state_->live[id] = bytes;
  return bytes;
}

std::shared_ptr<const std::string> ResponseMemory::Find(std::string_view key,
                                                        std::string_view etag) {
  const std::string id = LiveId(key, etag);
  std::lock_guard<std::mutex> lock(state_->mu);
  auto it = state_->live.find(id);
  if (it == state_->live.end()) return nullptr;
  std::shared_ptr<const std::string> held = it->second.lock();
  if (held) state_->shared.fetch_add(1, std::memory_order_relaxed);
  return held;
}

uint64_t ResponseMemory::budget() const { return state_->budget; }
uint64_t ResponseMemory::held_bytes() const { return state_->held.load(std::memory_order_relaxed); }
uint64_t ResponseMemory::shared() const { return state_->shared.load(std::memory_order_relaxed); }
uint64_t ResponseMemory::refused() const { return state_->refused.load(std::memory_order_relaxed); }

}  // namespace keyva::server
