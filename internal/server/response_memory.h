// ResponseMemory: the budget for value bytes held by responses in flight, and the sharing of a
// value between the responses that send it at the same time.
//
// A response to a slow client holds its value until the last byte is written; without a bound,
// clients that ask for big values and stop reading could pin any amount of memory. Every value
// of at least kShareMinBytes that a GET is about to send goes through Share():
//   - a value with the same key and ETag already held by a response in flight is reused (the
//     fresh copy is dropped at once), so a thousand readers of one 16 MiB value hold one copy;
//   - otherwise the value is charged to the budget for as long as any response holds it; when the
//     budget would be exceeded, Share refuses (the caller answers 503 + Retry-After). One value is
//     always admitted when nothing is held, so a budget below the value size limit still serves.
// Smaller values are not counted: each costs less than the connection that asks for it.
//
// The bytes are released when the last Payload holding them is destroyed (a reference count);
// the bookkeeping is shared with those Payloads, so they may outlive this object.
//
// Thread-safety: every method may be called from any thread (one short mutex around the map of
// values in flight).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace keyva::server {

class ResponseMemory {
 public:
  static constexpr uint64_t kShareMinBytes = 64u << 10;

  explicit ResponseMemory(uint64_t budget_bytes);
  ~ResponseMemory();

  // The bytes to send for value (just read for key at etag): shared with an in-flight response
  // when one holds the same key and ETag, else value itself, charged. nullptr (value dropped)
  // when the budget has no room for it. Values under kShareMinBytes are returned uncharged.
  std::shared_ptr<const std::string> Share(std::string_view key, std::string_view etag,
                                           std::string value);

  // The bytes an in-flight response holds for key at etag (counted as shared), or nullptr: lets
  // a caller reuse a derived copy (a compressed one, content_encoding.h) instead of making it.
  std::shared_ptr<const std::string> Find(std::string_view key, std::string_view etag);

  uint64_t budget() const;
  uint64_t held_bytes() const;  // charged bytes held now
  uint64_t shared() const;      // responses that reused a value in flight
  uint64_t refused() const;     // responses refused for want of budget

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace keyva::server
