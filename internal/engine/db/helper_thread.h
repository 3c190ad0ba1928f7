// HelperThread: the DB's one background thread, which runs jobs one at a time in submission order.
//
// The DB (db_impl.h) submits a flush or a compaction (background.cc) and later collects its result
// through the returned future; the job itself (table_writer.cc) reads only immutable data and
// writes only new files, so it needs no lock shared with the owner thread. HelperThread knows
// nothing about the DB: it is a queue of std::function and a thread draining it.
//
// Threading: Submit may be called from any thread (the DB calls it from its owner thread). The
// destructor stops the thread after it has run every job already submitted, and joins it.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <thread>

namespace keyva {

class HelperThread {
 public:
  HelperThread();
  ~HelperThread();  // runs the jobs still queued, then joins
  HelperThread(const HelperThread&) = delete;
  HelperThread& operator=(const HelperThread&) = delete;

  // Queues job; the future becomes ready when it has run (an exception it throws is stored there).
  std::future<void> Submit(std::function<void()> job);

 private:
  void Loop();
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::packaged_task<void()>> queue_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace keyva
