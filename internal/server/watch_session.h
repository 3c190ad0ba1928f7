// WatchSession: how an HTTP session serves GET /watch, the change feed (docs/server.md, "Watch").
//
// The session (http_session.cc) hands a request over with StartWatch once Router::IsWatch says
// it is one; the connection then never returns to the request loop. It becomes either
//   - a Server-Sent Events stream (Router::OpenWatch): the response head, then frames written a
//     piece at a time (at most kWatchPieceBytes of events taken from the feed per write, so a
//     watcher never holds more); a caught-up watcher arms its hub Waiter and waits for a change
//     or its heartbeat (--watch-heartbeat); a busy one is paced (WatchHub::BeginPacing), so the
//     changes of many group commits go out in one write;
//   - or a long poll (format=ndjson&wait=): the events after since, or a wait for the first of
//     them, answered as an ordinary response through the session's Send.
// A write that takes nothing for --watch-stall-timeout marks the watcher lagging: if the
// connection drains within another such period the watcher gets a last `lagging` event and the
// stream ends, else the connection is cut (at twice the period). One timer per stream, the
// watchdog, judges stalls and sends heartbeats; it sleeps until the next moment either could be
// due, so a busy stream arms no timer per write (a second, the pacing timer, spaces the writes). A
// plain connection is watched for the client going away, so a closed watcher frees its place at
// once (over TLS the next write or heartbeat notices). The stream also ends when the feed is
// trimmed past it (`gone`) or the server shuts down (OnShutdownWhileStreaming).
//
// WatchSession is a CRTP base of the session class S. S makes it a friend and provides stream_,
// Lowest() (the TCP stream), executor_ (its strand), ctx_ (SessionContext), parser_, phase_ and
// S::Phase, version_, status_, written_, start_, route_, method_, target_, remote_, shutdown_,
// cors_request_ (its CORS headers go on the SSE head),
// drain_, Send(), CloseNow(), CloseGracefully(), shared_from_this() and kIsTls; it calls
// OnShutdownWhileStreaming and CancelWatchTimers.
//
// Thread-safety: everything on the session's strand; only the hub's wake-up comes from the
// storage thread, and it only posts to the strand.
#pragma once

#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "internal/server/http_response.h"
#include "internal/server/router.h"
#include "internal/server/watch_hub.h"
#include "internal/server/watch_stream.h"

namespace keyva::server {

// A watch stream writes at most about this many bytes of events at once (its send buffer), and
// asks the feed for this many events per step.
constexpr size_t kWatchPieceBytes = 64u << 10;
constexpr size_t kWatchEventsPerStep = 256;
// Feed steps one turn of a watch may take before it yields the thread (a long backlog of
// changes that do not match its filter is read a page at a time).
constexpr int kWatchStepsPerTurn = 16;
// A long-poll answer holds at most about this many bytes.
constexpr size_t kPollMaxBytes = 4u << 20;

template <class S>
class WatchSession {
 protected:
  using Clock = std::chrono::steady_clock;

  void StartWatch() {
    Router::WatchOpening w = Self().ctx_.router.OpenWatch(Self().parser_->get());
    if (w.refusal) return Self().Send(std::move(*w.refusal), false, false);
    Self().phase_ = S::Phase::kStreaming;
    watch_ = std::move(w.stream);
    watch_sse_ = w.sse;
    watch_ending_ = watch_lagging_ = watch_final_ = watch_idle_ = watch_pacing_ = false;
    heartbeat_due_ = false;
    poll_max_events_ = w.max_events;
    poll_deadline_ = Clock::now() + w.wait;
    watch_timer_.emplace(Self().executor_);
    watchdog_timer_.emplace(Self().executor_);
    coalesce_timer_.emplace(Self().executor_);
    wake_scheduled_ = false;
    write_pending_ = false;
    if (w.sse) {
      // The watchdog is the stream's only deadline: no per-operation expiry on the socket.
      Self().Lowest().expires_never();
      WatchForPeerClose();
    }
    std::weak_ptr<S> weak = Self().shared_from_this();
    waiter_ = Self().ctx_.router.hub().NewWaiter(watch_->filter(), [weak, ex = Self().executor_] {
      boost::asio::post(ex, [weak] {
        if (auto self = weak.lock()) self->OnWatchWake();
      });
    });
    if (!watch_sse_) return PollOnce();
    Self().status_ = 200;
    watch_chunked_ = Self().version_ >= 11;
    std::string head = Self().version_ >= 11 ? "HTTP/1.1 200 OK\r\n" : "HTTP/1.0 200 OK\r\n";
    head +=
        "Server: keyva\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
        "X-Content-Type-Options: nosniff\r\nX-Accel-Buffering: no\r\nConnection: close\r\n";
    for (const auto& [name, value] :
         Self().ctx_.router.cors().ResponseHeaders(Self().cors_request_)) {
      head.append(name).append(": ").append(value).append("\r\n");
    }
    head.append(kRevisionHeader).append(": ").append(std::to_string(watch_->cursor()));
    head += watch_chunked_ ? "\r\nTransfer-Encoding: chunked\r\n\r\n" : "\r\n\r\n";
    // EventSource reconnects after a second (its default is three).
    watchdog_at_ = Clock::time_point::max();  // the first write arms it
    WatchWrite("retry: 1000\n\n", std::move(head));
  }

  // A shutdown request while streaming: end the stream (or answer the long poll) now.
  void OnShutdownWhileStreaming() {
    watch_ending_ = true;
    if (watch_idle_) LeaveIdle();
    if (watch_pacing_) coalesce_timer_->cancel();
  }

  // The connection is closing.
  void CancelWatchTimers() {
    if (watch_timer_) watch_timer_->cancel();
    if (watchdog_timer_) watchdog_timer_->cancel();
    if (coalesce_timer_) coalesce_timer_->cancel();
  }

 private:
  S& Self() { return static_cast<S&>(*this); }

  // Sends the next events (or ends the stream, or waits for a wake or the heartbeat).
  void WatchPump() {
    if (Self().phase_ == S::Phase::kClosing) return;
    if (Self().shutdown_ || Self().ctx_.shutting_down.load(std::memory_order_acquire))
      watch_ending_ = true;
    std::string frames;
    bool caught_up = false;
    for (int step = 0; !watch_ending_ && step < kWatchStepsPerTurn; step++) {
      if (frames.size() >= kWatchPieceBytes) break;
      waiter_->Arm();  // before looking, so an Append right after the look still wakes us
      const uint64_t before = watch_->events();
      const WatchStream::Step next = watch_->Next(&frames, kWatchEventsPerStep);
      Self().ctx_.metrics.WatchEventsSent(watch_->events() - before);
      if (next == WatchStream::Step::kCaughtUp) {
        caught_up = true;
        break;
      }
      waiter_->Disarm();
      if (next == WatchStream::Step::kGone) {
        Self().ctx_.metrics.WatcherGone();
        frames += watch_->GoneFrame();
        watch_ending_ = true;
      } else if (next == WatchStream::Step::kError) {
        spdlog::warn("{}: the change feed could not be read: {}", Self().remote_,
                     watch_->error().ToString());
        watch_ending_ = true;
      }
    }
    if (watch_ending_) return EndWatch(std::move(frames));
    // While a write is out (and its pacing after), the next look happens anyway: no wake needed.
    if (!frames.empty()) {
      waiter_->Disarm();
      heartbeat_due_ = false;
      return WatchWrite(std::move(frames));
    }
    if (caught_up && heartbeat_due_) {  // after the look, so its id is the feed's position
      waiter_->Disarm();
      heartbeat_due_ = false;
      return WatchWrite(watch_->HeartbeatFrame());
    }
    if (!caught_up) {  // a long stretch of changes this watcher does not want: yield, go on
      boost::asio::post(Self().executor_,
                        [self = Self().shared_from_this()] { self->WatchPump(); });
      return;
    }
    watch_idle_ = true;  // until a wake, the watchdog's heartbeat or a shutdown (LeaveIdle)
  }

  // An idle stream goes on: the waiter fired, a heartbeat is due or the server is stopping.
  void LeaveIdle() {
    watch_idle_ = false;
    WatchPump();
  }

  // The long poll's waiter is armed: wait until it fires (OnWatchWake cancels the timer) or until
  // its deadline.
  void WaitForChange(Clock::time_point deadline) {
    watch_idle_ = true;
    watch_timer_->expires_at(deadline);
    watch_timer_->async_wait([self = Self().shared_from_this()](boost::beast::error_code ec) {
      self->OnWatchTimer(ec);
    });
  }

  void OnWatchWake() {
    if (!watch_idle_ || wake_scheduled_) return;
    if (!watch_sse_) {
      watch_timer_->cancel();
      return;
    }
    const Clock::time_point due = last_watch_write_ + watch_interval_;
    if (Clock::now() >= due) return LeaveIdle();
    wake_scheduled_ = true;
    coalesce_timer_->expires_at(due);
    coalesce_timer_->async_wait([self = Self().shared_from_this()](boost::beast::error_code ec) {
      self->wake_scheduled_ = false;
      if (!ec && self->watch_idle_ && self->phase_ == S::Phase::kStreaming && self->watch_)
        self->LeaveIdle();
    });
  }

  // The watchdog sleeps until the stream's heartbeat is due (a period after its last write) or,
  // while a write is out, until that write would stall, whichever comes first as of `now`;
  // OnWatchdog then looks again. A busy stream has moved on by then: the timer is just armed for
  // the new moment, once per heartbeat period rather than once per write.
  void ArmWatchdog(Clock::time_point now) {
    const auto stall = Self().ctx_.config.watch_stall_timeout;
    const auto heartbeat = Self().ctx_.config.watch_heartbeat;
    Clock::time_point at = last_watch_write_ + heartbeat;
    if (at <= now) at = now + heartbeat;  // one is due already (heartbeat_due_): look a period on
    if (write_pending_) at = std::min(at, write_started_ + (watch_lagging_ ? 2 * stall : stall));
    watchdog_at_ = std::max(at, now + std::chrono::milliseconds(1));
    watchdog_timer_->expires_at(watchdog_at_);
    watchdog_timer_->async_wait(
        [self = Self().shared_from_this()](boost::beast::error_code ec) { self->OnWatchdog(ec); });
  }

  void OnWatchdog(boost::beast::error_code ec) {
    if (ec || Self().phase_ != S::Phase::kStreaming || !watch_) return;
    if (watch_final_ && !write_pending_) return;  // the stream is finishing
    const Clock::time_point now = Clock::now();
    const auto stall = Self().ctx_.config.watch_stall_timeout;
    if (write_pending_) {
      if (watch_lagging_ && now >= write_started_ + 2 * stall) {
        spdlog::debug("{}: a lagging watcher took nothing for another stall timeout: cut",
                      Self().remote_);
        return Self().CloseNow();  // the pending write fails and finishes the watch
      }
      if (!watch_lagging_ && now >= write_started_ + stall) {
        watch_lagging_ = true;  // the write's completion ends the stream with `lagging`
        Self().ctx_.metrics.WatcherCut();
        spdlog::debug("{}: a watcher took nothing for the stall timeout", Self().remote_);
      }
    } else if (now >= last_watch_write_ + Self().ctx_.config.watch_heartbeat) {
      heartbeat_due_ = true;  // sent once the stream is caught up (WatchPump)
      if (watch_idle_) {
        LeaveIdle();
        if (Self().phase_ != S::Phase::kStreaming || !watch_ || watch_final_) return;
      }
    }
    ArmWatchdog(now);
  }

  // A plain connection is watched for the client going away (it never sends on a stream), so a
  // closed watcher gives its place back at once instead of at its next write. TLS records cannot
  // be peeked at below the TLS layer: there, the next write notices.
  void WatchForPeerClose() {
    if constexpr (!S::kIsTls) {
      Self().Lowest().socket().async_wait(
          boost::asio::ip::tcp::socket::wait_read,
          [self = Self().shared_from_this()](boost::beast::error_code ec) {
            self->OnPeerReadable(ec);
          });
    }
  }

  void OnPeerReadable(boost::beast::error_code ec) {
    if (ec || Self().phase_ != S::Phase::kStreaming || !watch_) return;
    // Peek without blocking: 0 is the end of the stream, EAGAIN a readiness that was not (read
    // again later); bytes a client sends on a stream are read and dropped.
    char byte;
    const ssize_t n =
        ::recv(Self().Lowest().socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
      return WatchForPeerClose();
    }
    if (n <= 0) {  // end of stream or reset: the client is gone
      if (watch_idle_ || watch_pacing_) return FinishWatch(boost::asio::error::eof);
      return Self().CloseNow();  // the pending write fails and finishes the watch
    }
    boost::beast::error_code e;
    Self().drain_.resize(std::min<size_t>(Self().Lowest().socket().available(e), 16384));
    if (!e && !Self().drain_.empty())
      (void)Self().Lowest().socket().read_some(boost::asio::buffer(Self().drain_), e);
    if (e) return Self().CloseNow();
    WatchForPeerClose();
  }

  // The long poll's deadline passed, or it was woken or asked to shut down.
  void OnWatchTimer(boost::beast::error_code) {
    watch_idle_ = false;
    if (Self().phase_ == S::Phase::kClosing || !watch_) return;
    PollOnce();
  }

  // Writes frames as the body's next bytes (one chunk under HTTP/1.1, as they are under 1.0),
  // after head (the response head, at the start) and, when last, followed by the body's end.
  void WatchWrite(std::string frames, std::string head = {}, bool last = false) {
    watch_out_ = std::move(frames);
    watch_head_ = std::move(head);
    std::string_view tail;
    if (watch_chunked_) {
      if (!watch_out_.empty()) {
        char size[20];
        const int n = std::snprintf(size, sizeof(size), "%zx\r\n", watch_out_.size());
        watch_head_.append(size, n);
      }
      tail = watch_out_.empty() ? (last ? "0\r\n\r\n" : "") : (last ? "\r\n0\r\n\r\n" : "\r\n");
    }
    last_watch_write_ = write_started_ = Clock::now();
    write_pending_ = true;  // the watchdog judges how long it takes
    // Armed for later than this write could stall (a heartbeat period longer than the stall
    // timeout, or the first write): bring it forward.
    if (watchdog_at_ > write_started_ + Self().ctx_.config.watch_stall_timeout)
      ArmWatchdog(write_started_);
    const std::array<boost::asio::const_buffer, 3> pieces{
        boost::asio::buffer(watch_head_), boost::asio::buffer(watch_out_),
        boost::asio::buffer(tail.data(), tail.size())};
    boost::asio::async_write(
        Self().stream_, pieces,
        [self = Self().shared_from_this()](boost::beast::error_code ec, size_t n) {
          self->OnWatchWritten(ec, n);
        });
  }

  void OnWatchWritten(boost::beast::error_code ec, size_t bytes) {
    write_pending_ = false;
    Self().written_ += bytes;
    if (ec || watch_final_) return FinishWatch(ec);
    if (watch_out_.capacity() > 4 * kWatchPieceBytes) std::string().swap(watch_out_);
    if (watch_lagging_) {
      watch_ending_ = true;
      return EndWatch(watch_->LaggingFrame());
    }
    if (bytes >= kWatchPieceBytes || watch_ending_) return WatchPump();
    // Keeping up with a busy feed: let the rest of the period's changes gather first.
    watch_interval_ = Self().ctx_.router.hub().BeginPacing();
    const Clock::time_point due = last_watch_write_ + watch_interval_;
    if (Clock::now() >= due) {
      Self().ctx_.router.hub().EndPacing();
      return WatchPump();
    }
    watch_pacing_ = true;
    coalesce_timer_->expires_at(due);
    coalesce_timer_->async_wait([self = Self().shared_from_this()](boost::beast::error_code) {
      self->watch_pacing_ = false;
      self->ctx_.router.hub().EndPacing();
      if (self->phase_ == S::Phase::kStreaming && self->watch_) self->WatchPump();
    });
  }

  // Writes the last frames and the end of the body; FinishWatch then closes.
  void EndWatch(std::string frames) {
    watch_final_ = true;
    if (frames.empty() && !watch_chunked_) return FinishWatch({});
    WatchWrite(std::move(frames), {}, true);
  }

  void FinishWatch(boost::beast::error_code ec) {
    const auto latency = Clock::now() - Self().start_;
    Self().ctx_.metrics.RecordRequest(Self().route_, Self().method_, Self().status_, latency);
    if (Self().ctx_.config.access_log) {
      spdlog::info("access {} \"{} {}\" {} {} {:.3f}ms (watch, {} events)", Self().remote_,
                   Self().method_, Self().target_, Self().status_, Self().written_,
                   std::chrono::duration<double, std::milli>(latency).count(), watch_->events());
    }
    ReleaseWatch();
    if (ec) return Self().CloseNow();
    Self().CloseGracefully();
  }

  // The long poll: answers with the events after since, or waits for the first of them.
  void PollOnce() {
    if (Self().shutdown_ || Self().ctx_.shutting_down.load(std::memory_order_acquire))
      watch_ending_ = true;
    std::string body;
    WatchStream::Step next = WatchStream::Step::kMore;
    waiter_->Arm();
    const uint64_t before = watch_->events();
    for (int step = 0; step < kWatchStepsPerTurn && body.size() < kPollMaxBytes; step++) {
      const size_t taken = watch_->events() - before;
      if (taken >= poll_max_events_) break;
      next = watch_->Next(&body, std::min(kWatchEventsPerStep, poll_max_events_ - taken));
      if (next != WatchStream::Step::kMore) break;
    }
    Self().ctx_.metrics.WatchEventsSent(watch_->events() - before);
    const bool answer = !body.empty() || next == WatchStream::Step::kGone ||
                        next == WatchStream::Step::kError || watch_ending_ ||
                        Clock::now() >= poll_deadline_;
    if (!answer) {
      if (next == WatchStream::Step::kCaughtUp) return WaitForChange(poll_deadline_);
      boost::asio::post(Self().executor_, [self = Self().shared_from_this()] { self->PollOnce(); });
      return;
    }
    Response res;
    if (next == WatchStream::Step::kGone) {
      Self().ctx_.metrics.WatcherGone();
      res = Self().ctx_.router.GoneResponse(watch_->cursor());
    } else if (next == WatchStream::Step::kError) {
      res = MakeEngineErrorResponse(watch_->error(), "reading the change feed");
    } else {
      res = Response{boost::beast::http::status::ok, 11};
      res.set(boost::beast::http::field::content_type, "application/x-ndjson");
      res.set(boost::beast::http::field::cache_control, "no-store");
      res.body() = std::move(body);
      res.prepare_payload();
    }
    SetRevision(&res, watch_->cursor());
    ReleaseWatch();
    Self().Send(std::move(res), false, false);
  }

  void ReleaseWatch() {
    watch_.reset();
    waiter_.reset();
  }

  std::unique_ptr<WatchStream> watch_;
  std::shared_ptr<WatchHub::Waiter> waiter_;
  std::optional<boost::asio::steady_timer> watch_timer_;     // the long poll's deadline
  std::optional<boost::asio::steady_timer> watchdog_timer_;  // stalls and heartbeats (ArmWatchdog)
  std::optional<boost::asio::steady_timer> coalesce_timer_;  // OnWatchWake's short wait, the pacing
  bool wake_scheduled_ = false;
  bool write_pending_ = false;       // a WatchWrite is out, since write_started_
  Clock::time_point watchdog_at_{};  // when the watchdog is armed to look next
  Clock::time_point write_started_{};
  Clock::time_point last_watch_write_{};
  std::string watch_head_;  // the bytes being written: head (response head, chunk size line),
  std::string watch_out_;   // frames, and a constant tail (WatchWrite)
  std::chrono::milliseconds watch_interval_ = WatchHub::kMinWriteInterval;
  bool watch_sse_ = true;
  bool watch_chunked_ = true;
  bool watch_idle_ = false;     // caught up, waiting for a change (the long poll: on watch_timer_)
  bool watch_pacing_ = false;   // waiting on coalesce_timer_ after a write (OnWatchWritten)
  bool watch_ending_ = false;   // write what is pending, then the end of the stream
  bool watch_lagging_ = false;  // a write took nothing for the stall timeout
  bool watch_final_ = false;    // the last bytes are being written
  bool heartbeat_due_ = false;  // the watchdog found it due: send one unless events go out
  size_t poll_max_events_ = 0;
  Clock::time_point poll_deadline_;
};

}  // namespace keyva::server
