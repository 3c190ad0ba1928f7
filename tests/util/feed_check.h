// CheckFeed: is what a watcher of the change feed received exactly what the writers' own logs
// say was acknowledged? (docs/server.md, "Watch: the change feed".)
//
// Writers log every change the server acknowledged, with the revision of its answer
// (FeedChange), and every write left without an answer (a connection cut by a restart: it may
// or may not have happened) with revision 0. A watcher of prefix P from revision S must then
// have received, in order and each once, every acknowledged change to a key (or counter name)
// starting with P with revision > S, with the fields its answer carried (a put's ETag, a
// counter's value), and nothing else but:
//   - changes of writes without an answer (matched by type and key, each at most once);
//   - expire events, whose revisions no writer knows: one for each key whose last
//     acknowledged write (after S) was a put with a TTL, after that put, and none for a key
//     whose write before the expire had no TTL.
// Revisions must strictly increase.
//
// Thread-safety: plain functions over values.
#pragma once

#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace keyva::testing {

// One change a writer made, from its log.
struct FeedChange {
  uint64_t revision = 0;  // from the answer; 0 when there was no answer (outcome unknown)
  std::string type;       // "put", "delete" or "counter"
  std::string key;        // the key, or the counter's name
  std::string etag;       // put: the ETag the answer carried ("" when unknown)
  int64_t value = 0;      // counter: the value the answer carried (0 after a reset)
  bool reset = false;     // counter: DELETE /seq
  bool ttl = false;       // put: written with ?ttl
};

// One event a watcher received.
struct FeedEvent {
  uint64_t revision = 0;
  std::string type;  // "put", "delete", "counter" or "expire"
  std::string key;
  std::string etag;
  int64_t value = 0;
  bool reset = false;
};

// Reads an event object (an SSE event's data, or an NDJSON line). For SSE, sse_id and sse_type
// are the event's id: and event: fields, which must agree with the object's revision and type;
// disagreements and missing fields are appended to problems.
FeedEvent ParseFeedEvent(const nlohmann::json& j, std::vector<std::string>* problems,
                         const std::string& sse_id = "", const std::string& sse_type = "");

struct FeedWatch {
  std::string prefix;  // "" is everything
  uint64_t since = 0;  // the watch's start: changes after this revision
  uint64_t until = std::numeric_limits<uint64_t>::max();  // and up to this one
  bool require_expires = true;  // false: expires may be missing (a watcher that stopped early)
};

// Compares got with the writers' logs (acknowledged changes and writes without an answer).
// Returns the problems found, each described in a line; empty when the feed is exactly right.
std::vector<std::string> CheckFeed(const FeedWatch& watch, const std::vector<FeedEvent>& got,
                                   const std::vector<FeedChange>& acked,
                                   const std::vector<FeedChange>& unknown);

// "put k @42", for messages.
std::string Describe(const FeedEvent& e);
std::string Describe(const FeedChange& c);

}  // namespace keyva::testing
