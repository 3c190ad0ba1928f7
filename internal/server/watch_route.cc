// GET /watch: the change feed's request checks and the opening of a watcher (router.h). The
// session then serves it (http_session.cc): an SSE stream, or an NDJSON long poll.
//
//   prefix=P | key=K   which keys (not both; neither: every key and counter)
//   since=R            the revision the client has seen (events after it follow); without it,
//                      SSE starts at the current revision. Last-Event-ID takes its place.
//   format=sse|ndjson  sse (default), or the long poll, which needs since
//   wait=DURATION      long poll: up to 300 s (default 30 s) for a first change
//   limit=N            long poll: events per answer, 1..1000 (default 1000)
//
// since newer than the published revision (a number from another database) is 400; since older
// than the retention window (below the trimmed mark) is 410 {"oldest","revision"}; more than
// --max-watchers open at once is 503. With --auth-reads, a token that may read only some of the
// watched keys gets only their events (WatchFilter::restricted).
#include <charconv>

#include "internal/server/router.h"

namespace keyva::server {
namespace {

constexpr std::chrono::milliseconds kDefaultWait{30'000};
constexpr std::chrono::milliseconds kMaxWait{300'000};
constexpr size_t kDefaultWatchLimit = 1000;

}  // namespace

bool Router::IsWatch(const Request& req) {
  return req.method() == http::verb::get && RouteLabel(req.target()) == "/watch";
}

std::optional<Response> Router::CheckWatchRequest(const Request& req, Target* t) const {
  if (t->params.count("prefix") != 0 && t->params.count("key") != 0) {
    return MakeErrorResponse(http::status::bad_request,
                             "give prefix (keys starting with it) or key (one key), not both");
  }
  if (auto key = t->params.find("key");
      key != t->params.end() &&
      (key->second.empty() || key->second.size() > config_.max_key_size)) {
    return MakeErrorResponse(http::status::bad_request,
                             "key must be 1 to " + std::to_string(config_.max_key_size) + " bytes");
  }
  if (auto last = req.find("Last-Event-ID"); last != req.end()) {
    std::string_view v = last->value();
    uint64_t n = 0;
    auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec != std::errc() || ptr != v.data() + v.size()) {
      return MakeErrorResponse(http::status::bad_request,
                               "Last-Event-ID must be a revision (a whole number), not '" +
                                   std::string(v.substr(0, 40)) + "'");
    }
    t->since = n;
  }
  const std::string format = t->params.count("format") != 0 ? t->params["format"] : "sse";
  if (format != "sse" && format != "ndjson") {
    return MakeErrorResponse(http::status::bad_request,
                             "format must be sse or ndjson, not '" + format.substr(0, 40) + "'");
  }
  if (format == "sse" && (t->params.count("wait") != 0 || t->params.count("limit") != 0)) {
    return MakeErrorResponse(http::status::bad_request,
                             "wait and limit are for the long poll (format=ndjson)");
  }
  if (format == "ndjson" && !t->since) {
    return MakeErrorResponse(http::status::bad_request,
                             "a long poll needs since (the revision of the last answer, or of "
                             "a listing)");
  }
  if (auto wait = t->params.find("wait"); wait != t->params.end()) {
    std::chrono::milliseconds d{0};
    if (!ParseDuration(wait->second, &d) || d > kMaxWait) {
      return MakeErrorResponse(http::status::bad_request,
                               "wait must be a duration from 0 to 300s (such as 30s), not '" +
                                   wait->second.substr(0, 40) + "'");
    }
  }
  if (t->since) {
    const uint64_t revision = storage_->PublishedRevision();
    if (*t->since > revision) {
      return MakeErrorResponse(
          http::status::bad_request,
          "since " + std::to_string(*t->since) + " is newer than this server's revision " +
              std::to_string(revision) + " (a revision of another database?): list again");
    }
  }
  return std::nullopt;
}

Response Router::GoneResponse(uint64_t since) const {
  const uint64_t oldest = storage_->hub().trimmed() + 1;
  return MakeJsonResponse(
      http::status::gone,
      {{"error", "the feed no longer holds every change after revision " + std::to_string(since) +
                     " (it keeps revisions from " + std::to_string(oldest) +
                     "): list again, then watch from the listing's revision"},
       {"status", 410},
       {"oldest", oldest},
       {"revision", storage_->PublishedRevision()}});
}

Router::WatchOpening Router::OpenWatch(const Request& req) {
  WatchOpening w;
  Target t;
  if (std::optional<Response> refused = Resolve(req, &t)) {
    w.refusal = std::move(refused);
    return w;
  }
  const uint64_t since = t.since.value_or(storage_->PublishedRevision());
  if (since < storage_->hub().trimmed()) {
    w.refusal = GoneResponse(since);
    return w;
  }
  WatchFilter filter;
  if (auto key = t.params.find("key"); key != t.params.end()) {
    filter.prefix = key->second;
    filter.exact = true;
  } else {
    filter.prefix = t.params["prefix"];
  }
  // A token that may read only some of the watched keys sees only their events (access_route.cc
  // has refused a watch of none).
  if (t.token && !(t.token->CanReadAll(KeySpace::kKv, filter.prefix) &&
                   t.token->CanReadAll(KeySpace::kSeq, filter.prefix))) {
    filter.restricted = true;
    filter.value_prefixes = t.token->ReadPrefixes(KeySpace::kKv);
    filter.counter_prefixes = t.token->ReadPrefixes(KeySpace::kSeq);
  }
  w.sse = t.params["format"] != "ndjson";
  w.wait = kDefaultWait;
  if (auto wait = t.params.find("wait"); wait != t.params.end()) {
    (void)ParseDuration(wait->second, &w.wait);  // checked by CheckWatchRequest
  }
  w.max_events = t.limit.value_or(kDefaultWatchLimit);
  w.stream = storage_->NewWatchStream(
      std::move(filter), since, w.sse ? WatchStream::Format::kSse : WatchStream::Format::kNdjson,
      config_.max_watchers);
  if (!w.stream) {
    w.refusal =
        MakeErrorResponse(http::status::service_unavailable,
                          "the server has --max-watchers (" + std::to_string(config_.max_watchers) +
                              ") watches open; retry shortly");
  }
  return w;
}

}  // namespace keyva::server
