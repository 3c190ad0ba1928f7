// WatchHub: the recent tail of the change feed in memory, and the watchers waiting for more.
//
// The storage thread appends each group's events (Append) right after it publishes the group,
// before any of the group's responses leave; watchers on the I/O threads copy what they still
// need (Collect) and, once caught up, wait on a Waiter until the next Append wakes them. The
// ring holds the newest events (at most Limits::max_events and max_bytes); a watcher whose
// position is older than the ring reads the durable feed instead (change_feed.h: ReadFeed), at its
// own pace. So a slow watcher costs no memory here and never slows the storage thread: Append
// only moves pointers and wakes the waiters that asked to be woken.
//
// Also the feed's two numbers every watch needs: revision() (the newest published revision) and
// trimmed() (the highest revision dropped by retention; a watch from before it gets 410 Gone).
// The storage thread sets trimmed before it publishes the batch that deletes those records, so
// a reader that takes a view and then reads trimmed() knows whether the view may lack any event
// after its position.
//
// Thread-safety: Reset, Append and SetTrimmed on the storage thread (Reset before any watcher);
// everything else from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "internal/server/change_feed.h"

namespace keyva::server {

class WatchHub {
 public:
  struct Limits {
    size_t max_events = 65536;
    size_t max_bytes = 32u << 20;  // of event JSON and SSE frames
  };

  // One watcher's wake-up. Arm() before looking for events (so an Append between the look and
  // the wait is not missed); the next Append with an event the waiter's filter matches then
  // calls wake once (on the storage thread: it must only post work elsewhere) and disarms.
  // Watchers of other keys are not disturbed: an Append costs a prefix comparison per armed
  // waiter and event, and a wake only where there is something to send.
  class Waiter {
   public:
    void Arm() { armed_.store(true, std::memory_order_release); }
    void Disarm() { armed_.store(false, std::memory_order_release); }

   private:
    friend class WatchHub;
    Waiter(WatchFilter filter, std::function<void()> wake)
        : filter_(std::move(filter)), wake_(std::move(wake)) {}
    const WatchFilter filter_;
    std::atomic<bool> armed_{false};
    std::function<void()> wake_;
  };

  explicit WatchHub(Limits limits);

  // The feed's state at startup: the published revision and the trimmed mark.
  void Reset(uint64_t revision, uint64_t trimmed);
  // A published group's events (ascending revisions) and the revision now published.
  void Append(std::vector<ChangeEvent>&& events, uint64_t revision);
  void SetTrimmed(uint64_t trimmed) { trimmed_.store(trimmed, std::memory_order_release); }

  uint64_t revision() const { return revision_.load(std::memory_order_acquire); }
  uint64_t trimmed() const { return trimmed_.load(std::memory_order_acquire); }

  // Copies into *out the events after `after` that match filter (at most max_events) and sets
  // *cursor (see FeedPage::cursor). False when the ring no longer holds every event after
  // `after` (nothing copied: read the durable feed).
  bool Collect(uint64_t after, const WatchFilter& filter, size_t max_events,
               std::vector<std::shared_ptr<const ChangeEvent>>* out, uint64_t* cursor) const;

  // A waiter for the events filter matches, woken until it is dropped (the hub holds it weakly).
  std::shared_ptr<Waiter> NewWaiter(WatchFilter filter, std::function<void()> wake);

  // Pacing. A watch stream keeping up with a busy feed writes at most once per interval: after
  // a write that was not a full piece it waits out the rest of the interval (BeginPacing, and
  // EndPacing when the wait is over), so the changes of many group commits go out in one write.
  // A write costs the kernel about the same whatever its size, so the interval grows with the
  // number of watchers pacing at once, keeping the whole fan-out near kPacedWritesPerSecond
  // writes a second: from kMinWriteInterval (few busy watchers: low latency) up to
  // kMaxWriteInterval (a hundred or more watchers of everything: the latency grows, not the
  // share of CPU taken from writers). A watcher of a quiet feed is written to at once.
  static constexpr std::chrono::milliseconds kMinWriteInterval{10};
  static constexpr std::chrono::milliseconds kMaxWriteInterval{50};
  static constexpr uint64_t kPacedWritesPerSecond = 2000;
  // Counts the caller in and returns its interval.
  std::chrono::milliseconds BeginPacing();
  void EndPacing() { pacing_.fetch_sub(1, std::memory_order_relaxed); }

  // Watch streams and long polls open (TryAddWatcher refuses beyond max).
  bool TryAddWatcher(uint64_t max);
  void RemoveWatcher() { watchers_.fetch_sub(1, std::memory_order_relaxed); }
  uint64_t watchers() const { return watchers_.load(std::memory_order_relaxed); }

 private:
  const Limits limits_;
  mutable std::mutex mu_;
  std::deque<std::shared_ptr<const ChangeEvent>> ring_;  // guarded by mu_; ascending
  size_t ring_bytes_ = 0;                                // guarded by mu_
  // Every event with a revision above it is in ring_ (up to revision_).
  uint64_t covered_after_ = 0;                  // guarded by mu_
  std::vector<std::weak_ptr<Waiter>> waiters_;  // guarded by mu_
  std::atomic<uint64_t> revision_{0};
  std::atomic<uint64_t> trimmed_{0};
  std::atomic<uint64_t> watchers_{0};
  std::atomic<uint64_t> pacing_{0};
};

}  // namespace keyva::server
