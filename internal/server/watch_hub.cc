// The in-memory tail of the feed and its waiters; see watch_hub.h.
#include "internal/server/watch_hub.h"

#include <algorithm>

namespace keyva::server {

WatchHub::WatchHub(Limits limits) : limits_(limits) {}

void WatchHub::Reset(uint64_t revision, uint64_t trimmed) {
  std::lock_guard<std::mutex> lock(mu_);
  ring_.clear();
  ring_bytes_ = 0;
  covered_after_ = revision;
  revision_.store(revision, std::memory_order_release);
  trimmed_.store(trimmed, std::memory_order_release);
}

void WatchHub::Append(std::vector<ChangeEvent>&& events, uint64_t revision) {
  std::vector<std::shared_ptr<Waiter>> wake;
  for (ChangeEvent& e : events) {
    if (e.sse_frame.empty()) AppendSseFrame(e, &e.sse_frame);  // once, for every watcher
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (ChangeEvent& e : events) {
      ring_bytes_ += e.json.size() + e.sse_frame.size();
      ring_.push_back(std::make_shared<const ChangeEvent>(std::move(e)));
    }
    while (!ring_.empty() &&
           (ring_.size() > limits_.max_events || ring_bytes_ > limits_.max_bytes)) {
      covered_after_ = ring_.front()->revision;
      ring_bytes_ -= ring_.front()->json.size() + ring_.front()->sse_frame.size();
      ring_.pop_front();
    }
    revision_.store(std::max(revision, revision_.load(std::memory_order_relaxed)),
                    std::memory_order_release);
    if (events.empty()) return;
    const size_t first = ring_.size() - std::min(ring_.size(), events.size());  // this group's
    auto wants = [&](const Waiter& w) {
      for (size_t i = first; i < ring_.size(); i++) {
        if (w.filter_.Matches(*ring_[i])) return true;
      }
      return false;
    };
    // Wake the armed waiters that want one of the events; forget the dropped ones.
    size_t kept = 0;
    for (size_t i = 0; i < waiters_.size(); i++) {
      std::shared_ptr<Waiter> w = waiters_[i].lock();
      if (!w) continue;
      if (w->armed_.load(std::memory_order_acquire) && wants(*w) &&
          w->armed_.exchange(false, std::memory_order_acq_rel)) {
        wake.push_back(std::move(w));
      }
      if (kept != i) waiters_[kept] = std::move(waiters_[i]);  // (never a self-move)
      kept++;
    }
    waiters_.resize(kept);
  }
  for (auto& w : wake) w->wake_();
}

bool WatchHub::Collect(uint64_t after, const WatchFilter& filter, size_t max_events,
                       std::vector<std::shared_ptr<const ChangeEvent>>* out,
                       uint64_t* cursor) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (after < covered_after_) return false;
  auto it = std::upper_bound(
      ring_.begin(), ring_.end(), after,
      [](uint64_t r, const std::shared_ptr<const ChangeEvent>& e) { return r < e->revision; });
  *cursor = after;
  for (; it != ring_.end(); ++it) {
    if (out->size() >= max_events) return true;
    *cursor = (*it)->revision;
    if (filter.Matches(**it)) out->push_back(*it);
  }
  *cursor = std::max(after, revision_.load(std::memory_order_acquire));
  return true;
}

std::shared_ptr<WatchHub::Waiter> WatchHub::NewWaiter(WatchFilter filter,
                                                      std::function<void()> wake) {
  std::shared_ptr<Waiter> w(new Waiter(std::move(filter), std::move(wake)));
  std::lock_guard<std::mutex> lock(mu_);
  // Forget dropped waiters now and then, so a feed without changes does not collect them.
  if (waiters_.size() >= 64 && (waiters_.size() & (waiters_.size() - 1)) == 0) {
    std::erase_if(waiters_, [](const std::weak_ptr<Waiter>& x) { return x.expired(); });
  }
  waiters_.push_back(w);
  return w;
}

std::chrono::milliseconds WatchHub::BeginPacing() {
  const uint64_t busy = pacing_.fetch_add(1, std::memory_order_relaxed) + 1;
  const std::chrono::milliseconds spread{busy * 1000 / kPacedWritesPerSecond};
  return std::clamp(spread, kMinWriteInterval, kMaxWriteInterval);
}

bool WatchHub::TryAddWatcher(uint64_t max) {
  uint64_t n = watchers_.load(std::memory_order_relaxed);
  while (n < max) {
    if (watchers_.compare_exchange_weak(n, n + 1, std::memory_order_relaxed)) return true;
  }
  return false;
}

}  // namespace keyva::server
