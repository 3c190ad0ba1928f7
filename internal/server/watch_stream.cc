// One watcher's position in the feed; see watch_stream.h.
#include "internal/server/watch_stream.h"

#include <memory>
#include <vector>

namespace keyva::server {
namespace {

// Feed records one durable-feed page may look at (a narrow filter over a long feed).
constexpr size_t kMaxScannedPerPage = 4096;

}  // namespace

WatchStream::WatchStream(WatchHub* hub, DB* db, WatchFilter filter, uint64_t since, Format format)
    : hub_(hub), db_(db), filter_(std::move(filter)), format_(format), cursor_(since) {}

void WatchStream::Emit(const ChangeEvent& e, std::string* out) {
  events_++;
  if (format_ == Format::kNdjson) {
    out->append(e.json).push_back('\n');
    return;
  }
  if (!e.sse_frame.empty()) {
    out->append(e.sse_frame);
  } else {
    AppendSseFrame(e, out);
  }
}

WatchStream::Step WatchStream::Next(std::string* out, size_t max_events) {
  std::vector<std::shared_ptr<const ChangeEvent>> recent;
  uint64_t cursor = cursor_;
  if (hub_->Collect(cursor_, filter_, max_events, &recent, &cursor)) {
    for (const auto& e : recent) Emit(*e, out);
    const bool moved = cursor != cursor_;
    cursor_ = cursor;
    return !recent.empty() || (moved && cursor_ < hub_->revision()) ? Step::kMore : Step::kCaughtUp;
  }
  FeedPage page = ReadFeed(db_, cursor_, filter_, max_events, kMaxScannedPerPage);
  if (!page.status.ok()) {
    error_ = page.status;
    return Step::kError;
  }
  // After the view was taken: was anything after the cursor trimmed from it?
  if (cursor_ < hub_->trimmed()) return Step::kGone;
  for (const ChangeEvent& e : page.events) Emit(e, out);
  cursor_ = page.cursor;
  return Step::kMore;
}

std::string WatchStream::GoneFrame() const {
  return "event: gone\ndata: {\"oldest\":" + std::to_string(hub_->trimmed() + 1) +
         ",\"revision\":" + std::to_string(cursor_) + "}\n\n";
}

std::string WatchStream::HeartbeatFrame() const {
  return ": heartbeat\nid: " + std::to_string(cursor_) + "\n\n";
}

std::string WatchStream::LaggingFrame() const {
  return "event: lagging\ndata: {\"revision\":" + std::to_string(cursor_) + "}\n\n";
}

}  // namespace keyva::server
