// keyva watch: follows keyvad's change feed and prints one line per change as it arrives.
//
// The feed is GET /watch (docs/server.md, "Watch: the change feed"): Server-Sent Events whose id
// is the change's revision. Watch() keeps one stream open; when it ends (the server restarted,
// the network broke, nothing arrived for StreamOptions::idle_timeout, or the server dropped the
// watch as `lagging`) it connects again with Last-Event-ID set to the last revision it received,
// or, before any event, to the revision the first answer started from (its X-Keyva-Revision),
// so no change is lost or printed twice. The first reconnect waits the stream's `retry:` time
// (keyvad sends 1 s; without one it is immediate), later ones double that (from 250 ms) up to
// 5 s; a 502, 503 or 504 waits its Retry-After (else 1 s). It retries for as long as it runs,
// saying on stderr once per outage what broke, and again when the stream is back.
//
// Output, one line per event (stdout, flushed per line):
//   42 put app/db 5 bytes text/plain
//   43 put app/session 120 bytes application/json expires 2026-12-01T21:00:00.000Z
//   45 delete app/db
//   46 expire app/session
//   47 counter app/hits 12            (a reset: "47 counter app/hits 0 reset")
// A key that is empty or holds a space, a control character, '"' or '\' is printed as a JSON
// string ("app/my key"), so it never runs into the fields around it (the content type, last
// but for the expiry, may hold spaces). With json the event's JSON object is printed as the
// server sent it, one per line.
//
// Thread-safety: one thread (it owns the ApiClient while it runs).
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

#include "cmd/keyva/api_client.h"

namespace keyva::cli {

// One event of a text/event-stream (the HTML standard's "server-sent events" format).
struct SseEvent {
  std::string type;  // the event field; "message" when the stream gave none
  std::string data;  // the data fields, joined by "\n"
  std::string id;    // the last event ID once this event is dispatched
};

// Parses an event stream fed in pieces of any size: lines end in LF, CR LF or CR (also when a
// piece ends between CR and LF), a leading UTF-8 BOM is skipped, comment lines (":...") and
// unknown fields are ignored, and a blank line dispatches the event collected so far (one
// without data is not dispatched, but its id still counts, as the standard says).
class SseParser {
 public:
  // Parses piece; calls on_event for each event it completes, in order. on_event returns false
  // to stop: the rest of piece is then left unparsed, and Feed returns false.
  bool Feed(std::string_view piece, const std::function<bool(const SseEvent&)>& on_event);

  // The id of the last dispatched block ("" before the first): what a reconnect sends as
  // Last-Event-ID.
  const std::string& last_event_id() const { return last_event_id_; }
  // The reconnection time the stream asked for with a retry field, or -1.
  int64_t retry_ms() const { return retry_ms_; }

 private:
  bool Line(std::string_view line, const std::function<bool(const SseEvent&)>& on_event);

  std::string line_;           // the line read so far
  bool after_cr_ = false;      // the last byte seen was a CR (an LF next belongs to it)
  bool at_start_ = true;       // no line yet (the first may start with a BOM)
  std::string type_, data_;    // the event being collected
  bool has_data_ = false;      // a data field was seen (data_ may still be empty)
  std::string id_buffer_;      // the id field's value so far
  std::string last_event_id_;  // id_buffer_ as of the last dispatch
  int64_t retry_ms_ = -1;
};

struct WatchOptions {
  std::string prefix;              // changes to keys (and counters) starting with this
  std::optional<std::string> key;  // instead of prefix: only this key
  std::optional<uint64_t> since;   // the changes after this revision; none: from now
  bool json = false;               // print each event's JSON instead of a line of text
};

// Runs the watch until a signal given to api.StopOnSignals (Watch asks for SIGINT and SIGTERM)
// stops it: returns 0. Returns 1 when the server refuses it (410 Gone or an `event: gone`: the
// revision to continue from is no longer held, and the message names the oldest that is; 400 and
// other errors, with the server's message) and 3 when the server cannot be reached at the first
// try. Events go to out; notices and errors to err.
int Watch(ApiClient& api, const WatchOptions& options, std::ostream& out, std::ostream& err);

// The line of text (no newline) for an event of type with its JSON data; revision is the
// event's id, used when the data has no "revision".
std::string DescribeEvent(const std::string& type, const nlohmann::json& data,
                          const std::string& revision);

}  // namespace keyva::cli
