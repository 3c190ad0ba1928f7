// WatchStream: one watcher's place in the change feed, and the bytes to send it next.
//
// A watcher has a filter and a cursor: every matching event with a revision at or below the
// cursor has been handed out. Next() hands out the following events, formatted for the wire —
// Server-Sent Events frames (`id: R`, `event: TYPE`, `data: JSON`) or NDJSON lines — from the
// hub's in-memory tail when it still holds them, else from the durable feed on disk (ReadFeed),
// a page at a time. Reading the durable feed it checks the trimmed mark after taking its view:
// a cursor older than the mark may have lost events, and the stream is then Gone.
//
// Thread-safety: one thread at a time (the session's strand); the hub and DB are thread-safe.
#pragma once

#include <cstdint>
#include <string>

#include "internal/engine/db.h"
#include "internal/server/change_feed.h"
#include "internal/server/watch_hub.h"

namespace keyva::server {

class WatchStream {
 public:
  enum class Format { kSse, kNdjson };
  enum class Step {
    kMore,      // something was added to out, or more may follow at once: call again
    kCaughtUp,  // nothing more until the hub's next Append (arm a waiter, then call again)
    kGone,      // events after the cursor were trimmed: send GoneFrame and end the stream
    kError,     // the durable feed could not be read (error() says why)
  };

  // since: the revision the watcher has seen (events after it follow). The stream is one of the
  // hub's watchers (the caller has counted it in: WatchHub::TryAddWatcher) until destroyed.
  WatchStream(WatchHub* hub, DB* db, WatchFilter filter, uint64_t since, Format format);
  ~WatchStream() { hub_->RemoveWatcher(); }
  WatchStream(const WatchStream&) = delete;
  WatchStream& operator=(const WatchStream&) = delete;

  // Appends the frames of up to max_events further events to *out.
  Step Next(std::string* out, size_t max_events);

  uint64_t cursor() const { return cursor_; }
  const WatchFilter& filter() const { return filter_; }
  uint64_t events() const { return events_; }
  const Status& error() const { return error_; }

  // The final frames (SSE): the feed was trimmed past the cursor; the connection is being cut
  // for not reading.
  std::string GoneFrame() const;
  std::string LaggingFrame() const;
  // The idle frame: a comment, and `id:` with the cursor but no data, so an EventSource (and any
  // SSE client that follows the spec) moves its Last-Event-ID on without seeing an event: a
  // watcher of a quiet prefix on a busy server resumes from where the feed is, not from its
  // last event.
  std::string HeartbeatFrame() const;

 private:
  void Emit(const ChangeEvent& e, std::string* out);

  WatchHub* const hub_;
  DB* const db_;
  const WatchFilter filter_;
  const Format format_;
  uint64_t cursor_;
  uint64_t events_ = 0;
  Status error_;
};

}  // namespace keyva::server
