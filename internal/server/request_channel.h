// RequestChannel: the bounded multi-producer, single-consumer queue between the I/O threads and
// the storage thread.
//
// Capacity is fixed at construction. TryPush never blocks and never grows the queue: when the
// channel is full (or closed) it refuses, and the caller answers 503 with Retry-After. That is
// keyvad's backpressure — memory stays bounded however fast requests arrive. The one consumer
// takes items in batches (PopBatch), which is what makes group commit possible.
//
// Thread-safety: TryPush, Size and Close from any thread; PopBatch from the one consumer thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <vector>

namespace keyva::server {

template <class T>
class RequestChannel {
 public:
  // REQUIRES: capacity >= 1.
  explicit RequestChannel(size_t capacity) : capacity_(capacity) {}
  RequestChannel(const RequestChannel&) = delete;
  RequestChannel& operator=(const RequestChannel&) = delete;

  // Moves *item into the channel and returns true; returns false, leaving *item untouched, when
  // the channel is full or closed.
  bool TryPush(T* item) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (closed_ || items_.size() >= capacity_) return false;
      items_.push_back(std::move(*item));
    }
    nonempty_.notify_one();
    return true;
  }

  // Waits up to timeout for an item, then moves up to max_items (>= 1) of them, oldest first,
  // onto *out. Returns false once the channel is closed and empty (nothing more will come);
  // true otherwise, possibly with nothing moved after a timeout.
  bool PopBatch(std::vector<T>* out, size_t max_items, std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    nonempty_.wait_for(lock, timeout, [this] { return closed_ || !items_.empty(); });
    while (!items_.empty() && max_items-- > 0) {
      out->push_back(std::move(items_.front()));
      items_.pop_front();
    }
    return !(closed_ && items_.empty() && out->empty());
  }

  // Refuses every later TryPush; items already queued are still handed out by PopBatch.
  void Close() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      closed_ = true;
    }
    nonempty_.notify_all();
  }

  size_t Size() const {
    std::lock_guard<std::mutex> lock(mu_);
    return items_.size();
  }
  size_t capacity() const { return capacity_; }

 private:
  const size_t capacity_;
  mutable std::mutex mu_;
  std::condition_variable nonempty_;
  std::deque<T> items_;  // never more than capacity_ items
  bool closed_ = false;
};

}  // namespace keyva::server
