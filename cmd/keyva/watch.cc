// keyva watch: the event-stream parser and the reconnecting follower; see watch.h.
#include "cmd/keyva/watch.h"

#include <signal.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <nlohmann/json.hpp>
#include <vector>

namespace keyva::cli {
namespace {

constexpr std::chrono::milliseconds kFirstBackoff{250};
constexpr std::chrono::milliseconds kMaxBackoff{5000};
constexpr size_t kMaxErrorBody = 64 * 1024;  // of a refusal, for its message

bool ParseUint(std::string_view text, uint64_t* out) {
  if (text.empty()) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size();
}

// The key as printed: as it is, or as a JSON string when it could be misread (see watch.h).
std::string ShownKey(const std::string& key) {
  bool plain = !key.empty();
  for (unsigned char c : key) {
    if (c <= ' ' || c == 0x7f || c == '"' || c == '\\') plain = false;
  }
  if (plain) return key;
  return nlohmann::json(key).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string Field(const nlohmann::json& data, const char* name) {
  auto it = data.find(name);
  if (it == data.end()) return "";
  if (it->is_string()) return it->get<std::string>();
  return it->dump();
}

std::string Plural(const nlohmann::json& n, const char* one, const char* many) {
  const std::string text = n.is_number() ? n.dump() : "?";
  return text + " " + (text == "1" ? one : many);
}

// The value of a Retry-After header in milliseconds (seconds only; an HTTP-date counts as 1 s).
std::chrono::milliseconds RetryAfter(const ApiResponse& r) {
  auto it = r.headers.find("retry-after");
  uint64_t seconds = 1;
  if (it != r.headers.end() && ParseUint(it->second, &seconds)) {
    return std::chrono::milliseconds(std::clamp<uint64_t>(seconds, 1, 300) * 1000);
  }
  return std::chrono::milliseconds(1000);
}

std::string Header(const ApiResponse& r, const std::string& name) {
  auto it = r.headers.find(name);
  return it == r.headers.end() ? "" : it->second;
}

bool IsEventStream(const ApiResponse& r) {
  std::string type = Header(r, "content-type");
  std::transform(type.begin(), type.end(), type.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return type.rfind("text/event-stream", 0) == 0;
}

std::string WatchTarget(const WatchOptions& options) {
  std::vector<std::string> params;
  if (options.key) {
    params.push_back("key=" + QueryValue(*options.key));
  } else if (!options.prefix.empty()) {
    params.push_back("prefix=" + QueryValue(options.prefix));
  }
  if (options.since) params.push_back("since=" + std::to_string(*options.since));
  std::string target = "/watch";
  for (size_t i = 0; i < params.size(); i++) target += (i == 0 ? "?" : "&") + params[i];
  return target;
}

}  // namespace

bool SseParser::Feed(std::string_view piece, const std::function<bool(const SseEvent&)>& on_event) {
  for (size_t i = 0; i < piece.size(); i++) {
    const char c = piece[i];
    if (after_cr_) {
      after_cr_ = false;
      if (c == '\n') continue;  // the LF of a CR LF
    }
    if (c == '\r' || c == '\n') {
      after_cr_ = c == '\r';
      std::string line;
      line.swap(line_);
      if (!Line(line, on_event)) return false;
    } else {
      line_.push_back(c);
    }
  }
  return true;
}

bool SseParser::Line(std::string_view line, const std::function<bool(const SseEvent&)>& on_event) {
  if (at_start_) {
    at_start_ = false;
    static constexpr std::string_view kBom = "\xEF\xBB\xBF";
    if (line.substr(0, kBom.size()) == kBom) line.remove_prefix(kBom.size());
  }
  if (line.empty()) {  // dispatch
    last_event_id_ = id_buffer_;
    const bool had_data = has_data_;
    SseEvent event{type_.empty() ? "message" : type_, std::move(data_), last_event_id_};
    type_.clear();
    data_.clear();
    has_data_ = false;
    return !had_data || on_event(event);
  }
  if (line.front() == ':') return true;  // a comment (": heartbeat")
  std::string_view name = line, value;
  if (size_t colon = line.find(':'); colon != std::string_view::npos) {
    name = line.substr(0, colon);
    value = line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  }
  if (name == "event") {
    type_ = value;
  } else if (name == "data") {
    if (has_data_) data_ += '\n';
    data_ += value;
    has_data_ = true;
  } else if (name == "id") {
    if (value.find('\0') == std::string_view::npos) id_buffer_ = value;
  } else if (name == "retry") {
    uint64_t ms = 0;
    if (ParseUint(value, &ms)) retry_ms_ = static_cast<int64_t>(std::min<uint64_t>(ms, 3600000));
  }
  return true;
}

std::string DescribeEvent(const std::string& type, const nlohmann::json& data,
                          const std::string& revision) {
  std::string rev = revision;
  if (auto it = data.find("revision"); it != data.end() && it->is_number_unsigned()) {
    rev = it->dump();
  }
  std::string line = rev + " " + type + " " + ShownKey(Field(data, "key"));
  if (type == "put") {
    line += " " + Plural(data.value("size", nlohmann::json()), "byte", "bytes");
    if (std::string ct = Field(data, "content_type"); !ct.empty()) line += " " + ct;
    if (std::string expires = Field(data, "expires"); !expires.empty()) {
      line += " expires " + expires;
    }
  } else if (type == "counter") {
    line += " " + Field(data, "value");
    if (data.value("reset", false)) line += " reset";
  }
  return line;
}

int Watch(ApiClient& api, const WatchOptions& options, std::ostream& out, std::ostream& err) {
  api.StopOnSignals({SIGINT, SIGTERM});
  const std::string target = WatchTarget(options);
  // The revision the feed has been followed to: the next connection asks for what comes after.
  std::optional<std::string> position;
  if (options.since) position = std::to_string(*options.since);
  bool connected_before = false;  // a stream has been opened (failures are then retried)
  bool reconnecting = false;      // the stream was lost; the next one is a reconnect
  std::string outage;             // what was said about the current outage ("" when none)
  std::chrono::milliseconds backoff{0};

  auto notice = [&](const std::string& what) {
    if (what == outage) return;
    outage = what;
    err << "keyva: watch: " << what << "\n" << std::flush;
  };
  auto lost = [&](const std::string& why) {
    notice(why + "; reconnecting" + (position ? " after revision " + *position : ""));
  };

  while (true) {
    StreamOptions stream_options;
    stream_options.headers.emplace_back("Accept", "text/event-stream");
    stream_options.headers.emplace_back("Cache-Control", "no-cache");
    if (reconnecting && position) stream_options.headers.emplace_back("Last-Event-ID", *position);

    SseParser parser;
    ApiResponse head;
    bool streaming = false;
    std::optional<int> exit_code;
    std::string why_ended;

    auto on_event = [&](const SseEvent& event) {
      if (event.type == "gone") {
        nlohmann::json data = nlohmann::json::parse(event.data, nullptr, false);
        err << "keyva: watch: the server no longer holds the changes after revision "
            << position.value_or("?") << " (the oldest it holds is "
            << (data.is_object() ? Field(data, "oldest") : "unknown")
            << "); list again (keyva ls) and watch from the listing's revision\n";
        exit_code = 1;
        return false;
      }
      if (event.type == "lagging") {
        why_ended = "the server dropped the watch for reading too slowly";
        return false;
      }
      if (!event.id.empty()) position = event.id;
      if (options.json) {
        if (event.data.find('\n') == std::string::npos) {
          out << event.data << "\n" << std::flush;
        } else {
          nlohmann::ordered_json data = nlohmann::ordered_json::parse(event.data, nullptr, false);
          out << (data.is_discarded() ? nlohmann::ordered_json(event.data) : data).dump() << "\n"
              << std::flush;
        }
        return true;
      }
      nlohmann::json data = nlohmann::json::parse(event.data, nullptr, false);
      if (!data.is_object()) {
        err << "keyva: watch: the server sent an event whose data is not a JSON object: "
            << event.data << "\n";
        return true;
      }
      out << DescribeEvent(event.type, data, event.id) << "\n" << std::flush;
      return true;
    };

    StreamEnd end;
    try {
      end = api.Stream(
          target, stream_options,
          [&](const ApiResponse& h) {
            head = h;
            streaming = h.status == 200 && IsEventStream(h);
            if (!streaming) return;
            std::string revision = Header(h, "x-keyva-revision");
            uint64_t unused = 0;
            if (!position && ParseUint(revision, &unused)) position = revision;
            connected_before = true;
            if (!outage.empty()) err << "keyva: watch: reconnected\n" << std::flush;
            outage.clear();
            backoff = std::chrono::milliseconds(0);
          },
          [&](std::string_view piece) {
            if (streaming) return parser.Feed(piece, on_event);
            head.body.append(
                piece.substr(0, kMaxErrorBody - std::min(kMaxErrorBody, head.body.size())));
            return true;
          });
    } catch (const ApiError& e) {
      if (!connected_before) {
        err << "keyva: " << e.what() << "\n";
        return 3;
      }
      lost(e.what());
      end = StreamEnd::kClosed;
      streaming = true;  // a connection that failed: retry as for a broken stream
    }
    if (!parser.last_event_id().empty()) position = parser.last_event_id();
    if (exit_code) return *exit_code;
    if (end == StreamEnd::kStopped || api.stopped()) return 0;

    if (!streaming) {
      if (head.status == 410) {
        nlohmann::json body = nlohmann::json::parse(head.body, nullptr, false);
        const bool known = body.is_object();
        err << "keyva: watch: the server no longer holds the changes after revision "
            << position.value_or("?") << " (the oldest it holds is "
            << (known ? Field(body, "oldest") : "unknown");
        if (known && body.contains("revision")) err << "; it is at " << Field(body, "revision");
        err << "); list again (keyva ls) and watch from the listing's revision\n";
        return 1;
      }
      if (head.status == 502 || head.status == 503 || head.status == 504) {
        // Too many watchers, a busy server, or a proxy whose keyvad is away: wait as it asks
        // (else a second), then try again.
        notice("the server is unavailable (" + ServerMessage(head) + ", HTTP " +
               std::to_string(head.status) + "); trying again");
        if (!api.Pause(RetryAfter(head))) return 0;
        continue;
      }
      if (head.status == 200) {
        err << "keyva: watch: the server did not answer with an event stream (Content-Type: "
            << Header(head, "content-type") << "); does it have the watch feed?\n";
        return 1;
      }
      err << "keyva: " << ServerMessage(head) << " (HTTP " << head.status << ")\n";
      return 1;
    }

    if (why_ended.empty()) {
      const auto idle =
          std::chrono::duration_cast<std::chrono::seconds>(stream_options.idle_timeout);
      why_ended = end == StreamEnd::kIdle
                      ? "nothing arrived from the server for " + std::to_string(idle.count()) + " s"
                  : end == StreamEnd::kComplete ? "the server ended the stream"
                                                : "the connection was lost";
    }
    if (outage.empty()) lost(why_ended);
    reconnecting = true;
    if (parser.retry_ms() >= 0 && backoff.count() == 0) {
      backoff = std::chrono::milliseconds(parser.retry_ms());
    }
    if (backoff.count() > 0 && !api.Pause(backoff)) return 0;
    backoff = backoff.count() == 0 ? kFirstBackoff : std::min(backoff * 2, kMaxBackoff);
  }
}

}  // namespace keyva::cli
