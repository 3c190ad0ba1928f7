// SseClient: a client of keyvad's change feed (GET /watch, docs/server.md "Watch: the change
// feed") for tests: Server-Sent Events over one HTTP/1.1 connection, every read bounded.
//
// The constructor connects, sends the request (with Last-Event-ID when given) and reads the
// response header. A response that is not a stream (an error such as 400 or 410, or a 503) is
// read whole into response().body. Otherwise Next() hands out the stream's events one at a time,
// parsed as the SSE specification says: fields "id", "event" and "data" (data lines joined by
// '\n'), a blank line ends an event, lines starting with ':' are comments (heartbeats); a block
// without data is no event, but its id still moves last_event_id() on (keyvad's heartbeats carry
// the stream's position that way). An event cut off by the end of the stream is dropped, as
// EventSource drops it.
//
// The bytes are read with poll + recv and framed by Beast's parser, so a test can stop reading
// (a stalled watcher, with a tiny receive buffer) and later drain what the server sent.
//
// Thread-safety: one thread per client.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "tests/util/http_test_client.h"

namespace keyva::testing {

struct SseEvent {
  std::string id;                // the event's own id: field ("" when it had none)
  std::string type = "message";  // the event: field
  std::string data;              // the data: lines, joined by '\n'

  // data parsed as JSON; throws when it is not JSON.
  nlohmann::json Json() const;
};

class SseClient {
 public:
  struct Options {
    std::string last_event_id;  // sent as Last-Event-ID when not empty
    std::string authorization;  // sent as Authorization when not empty
    int receive_buffer = 0;     // > 0: SO_RCVBUF of the socket, set before connecting
    int header_timeout_ms = 10000;
  };

  // Throws std::runtime_error when it cannot connect or no response header comes in time.
  SseClient(uint16_t port, const std::string& target, const Options& options);
  SseClient(uint16_t port, const std::string& target) : SseClient(port, target, Options{}) {}
  ~SseClient();
  SseClient(const SseClient&) = delete;
  SseClient& operator=(const SseClient&) = delete;

  // Status and headers; for a response that is not an event stream, also its whole body.
  const HttpReply& response() const { return response_; }
  int status() const { return response_.status; }
  // True when the response is a 200 text/event-stream.
  bool streaming() const { return streaming_; }

  // The next event, waiting at most timeout_ms for it. nullopt when none came in time or the
  // stream is over (ended() tells which).
  std::optional<SseEvent> Next(int timeout_ms);
  // True once the stream is over: the server ended the response, closed or reset the
  // connection, or Close() was called. Events already received are still handed out by Next().
  bool ended() const { return ended_ && events_.empty(); }
  // Reads until the stream is over or timeout_ms passes, keeping the events for Next(); true
  // when it ended.
  bool WaitForEnd(int timeout_ms);
  // Events read from the connection that Next() has not handed out yet.
  size_t queued() const { return events_.size(); }
  // Comment lines received so far (": heartbeat").
  int comments() const { return comments_; }
  // The last event ID as EventSource keeps it (what it sends as Last-Event-ID): the last id:
  // field of a block that ended, an event or a block without data; "" before any. It runs
  // ahead of Next() by the events still queued.
  const std::string& last_event_id() const { return last_event_id_; }
  // The socket's local port (to find the connection in /proc/net/tcp).
  uint16_t local_port() const { return local_port_; }
  // Closes the connection at once, what a client that drops does.
  void Close();

 private:
  // Reads once (waiting until deadline_ms from now at most); false on timeout.
  bool ReadSome(int timeout_ms);
  void Feed(const char* data, size_t n);
  void ParseStream();
  void ParseLine(const std::string& line);

  struct Parser;
  std::unique_ptr<Parser> parser_;
  int fd_ = -1;
  uint16_t local_port_ = 0;
  HttpReply response_;
  bool header_done_ = false;
  bool streaming_ = false;
  bool ended_ = false;
  std::string stream_;         // body bytes not yet split into lines
  SseEvent pending_;           // the event being assembled
  bool pending_data_ = false;  // a data: field was seen
  std::deque<SseEvent> events_;
  int comments_ = 0;
  std::string id_buffer_;      // the last id: field, even of a block not ended yet
  std::string last_event_id_;  // id_buffer_ as of the last block that ended
};

}  // namespace keyva::testing
