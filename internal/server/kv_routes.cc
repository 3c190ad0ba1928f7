// The /kv and /seq handlers of Router: they turn requests into StorageJobs on a KvStore and
// the jobs' results into responses (router.h). Writes are submitted to the storage thread;
// reads (GET and HEAD of values, listings and counters) run at once on the I/O thread through
// StorageThread::Read.
#include <algorithm>
#include <boost/beast/core/string.hpp>
#include <map>
#include <memory>

#include "internal/server/byte_range.h"
#include "internal/server/entry_json.h"
#include "internal/server/http_date.h"
#include "internal/server/key_pattern.h"
#include "internal/server/router.h"
#include "internal/server/sniff.h"
#include "internal/server/uri_decoding.h"

namespace keyva::server {
namespace {

// Headers every stored value is served with: the browser must neither sniff another type nor
// let a stored HTML/SVG/XML document script the web page on the same origin.
void SetStoredValueHeaders(Response* res, const ValueMeta& meta, const std::string& etag) {
  res->set(http::field::etag, etag);
  res->set(http::field::last_modified, FormatHttpDate(meta.modified_us));
  res->set(http::field::cache_control, "no-cache");
  res->set("X-Content-Type-Options", "nosniff");
  res->set("Content-Security-Policy", "sandbox");
}

// A response without a body or Content-Length (204, 304).
Response EmptyResponse(http::status status) {
  Response res{status, 11};
  return res;
}

// Parses an If-Match / If-None-Match header when present. False (and *error set) when it is
// malformed.
bool ParseCondition(const Request& req, http::field field, std::optional<EtagCondition>* out,
                    std::optional<Response>* error) {
  auto it = req.find(field);
  if (it == req.end()) return true;
  EtagCondition cond;
  if (!ParseEtagCondition(it->value(), &cond)) {
    *error = MakeErrorResponse(http::status::bad_request,
                               "malformed " + std::string(it->name_string()) +
                                   " header: expected \"etag\", W/\"etag\", a list of them, or *");
    return false;
  }
  *out = std::move(cond);
  return true;
}

// If-Unmodified-Since as seconds since the epoch; nullopt when absent or not an HTTP-date (RFC
// 9110 §13.1.4: a recipient ignores an invalid one).
std::optional<int64_t> ParseUnmodifiedSince(const Request& req) {
  auto it = req.find(http::field::if_unmodified_since);
  int64_t seconds = 0;
  if (it == req.end() || !ParseHttpDate(it->value(), &seconds)) return std::nullopt;
  return seconds;
}

// "application/x-www-form-urlencoded", any case, with or without parameters.
bool IsFormUrlencoded(std::string_view content_type) {
  std::string_view media = content_type.substr(0, content_type.find(';'));
  while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
  return boost::beast::iequals(media, "application/x-www-form-urlencoded");
}

// A listing's delimiter: a few bytes (S3's folders use "/").
constexpr size_t kMaxDelimiterSize = 16;

// A search (glob or contains) looks at up to this many keys that do not match before a page
// answers: a few tens of milliseconds. The client pages on with next.
constexpr size_t kSearchScanBudget = 100'000;

// A token that reads only some of a listing's keys: the listing shows (and counts) only those,
// and looks at no more than ten pages' worth of the others before it answers (a page may then
// hold fewer than limit items; next goes on from where it stopped). With a pattern, only the keys
// it matches are shown, within kSearchScanBudget.
void HideUnreadable(const std::shared_ptr<const AccessToken>& token, KeySpace space,
                    ListRequest* request, std::shared_ptr<const KeyPattern> pattern = nullptr) {
  const bool filter_token = token && !token->CanReadAll(space, request->prefix);
  if (!filter_token && !pattern) return;
  request->visible = [token = filter_token ? token : nullptr, space,
                      pattern](std::string_view key) {
    return (!token || token->Allows(Right::kRead, space, key)) &&
           (!pattern || pattern->Matches(key));
  };
  request->max_hidden =
      pattern ? std::max(kSearchScanBudget, 10 * request->limit) : 10 * request->limit;
}

// The listing's search from ?glob= or ?contains= (null without); *error for a bad one.
std::shared_ptr<const KeyPattern> SearchOf(const std::map<std::string, std::string>& params,
                                           std::string* error) {
  const auto glob = params.find("glob");
  const auto contains = params.find("contains");
  if (glob != params.end() && contains != params.end()) {
    *error = "give glob or contains, not both";
    return nullptr;
  }
  std::optional<KeyPattern> p;
  if (glob != params.end()) p = KeyPattern::Glob(glob->second, error);
  if (contains != params.end()) p = KeyPattern::Contains(contains->second, error);
  return p ? std::make_shared<const KeyPattern>(std::move(*p)) : nullptr;
}

nlohmann::json NextCursor(const std::optional<std::string>& next) {
  return next ? nlohmann::json(*next) : nlohmann::json(nullptr);
}

}  // namespace

Response Router::CacheEntryTooLarge(const CacheQuota& cache, uint64_t entry_bytes) {
  return MakeErrorResponse(http::status::payload_too_large,
                           "the build cache " + JsonQuote(cache.prefix()) + " holds at most " +
                               std::to_string(cache.limit()) +
                               " bytes (keys + values); this entry is " +
                               std::to_string(entry_bytes) + " bytes; nothing stored");
}

void Router::HandleKvGet(Target&& t, const Request& req, Responder respond) {
  std::optional<EtagCondition> if_none_match;
  std::optional<Response> error;
  if (!ParseCondition(req, http::field::if_none_match, &if_none_match, &error)) {
    respond(std::move(*error));
    return;
  }
  struct State {
    std::string key;
    std::optional<EtagCondition> if_none_match;
    std::optional<std::string> range;     // GET's Range header (byte_range.h)
    std::optional<std::string> if_range;  // and its If-Range
    Status status;
    KvEntry entry;  // its value moves into bytes
    bool not_modified = false;
    std::shared_ptr<const std::string> bytes;  // null: refused for want of response memory
  };
  auto state = std::make_shared<State>();
  state->key = std::move(t.key);
  state->if_none_match = std::move(if_none_match);
  if (req.method() == http::verb::get) {  // HEAD ignores Range (RFC 9110 §14.2)
    if (auto range = req.find(http::field::range); range != req.end()) {
      state->range = std::string(range->value());
    }
    if (auto if_range = req.find(http::field::if_range); if_range != req.end()) {
      state->if_range = std::string(if_range->value());
    }
  }
  StorageJob job;
  // Run right here on the I/O thread (StorageThread::Read). The value is shared or refused right
  // where it was read: GETs of big values never hold more than one unshared copy each beyond
  // the response-memory budget.
  job.run = [state, memory = &memory_](KvStore& store) {
    state->status = store.Get(state->key, &state->entry);
    if (!state->status.ok()) return false;
    KvEntry& e = state->entry;
    if (state->if_none_match && MatchesWeak(*state->if_none_match, e.etag)) {
      state->not_modified = true;
      std::string().swap(e.value);
      return false;
    }
    state->bytes = memory->Share(state->key, e.etag, std::move(e.value));
    return false;
  };
  job.complete = [state, respond](const Status&) {
    KvEntry& e = state->entry;
    auto send = [&](Response&& res) {
      SetRevision(&res, e.revision);
      respond(std::move(res));
    };
    if (state->status.IsNotFound()) {
      send(MakeErrorResponse(http::status::not_found, "no value at key " + JsonQuote(state->key)));
      return;
    }
    if (!state->status.ok()) {
      send(MakeEngineErrorResponse(state->status, "reading " + JsonQuote(state->key)));
      return;
    }
    if (state->not_modified) {
      Response res = EmptyResponse(http::status::not_modified);
      SetStoredValueHeaders(&res, e.meta, e.etag);
      send(std::move(res));
      return;
    }
    if (!state->bytes) {
      send(MakeErrorResponse(http::status::service_unavailable,
                             "responses in flight hold all of --response-memory (slow clients "
                             "reading large values); retry shortly"));
      return;
    }
    Payload value(std::move(state->bytes));
    RangeAnswer range;
    if (state->range && (!state->if_range ||
                         IfRangeHolds(*state->if_range, e.etag, e.meta.modified_us / 1'000'000))) {
      range = AnswerRange(*state->range, value.size());
    }
    if (range.kind == RangeAnswer::Kind::kUnsatisfiable) {
      Response res = MakeErrorResponse(http::status::range_not_satisfiable, range.reason);
      res.set(http::field::content_range, ContentRange(range, value.size()));
      res.set(http::field::accept_ranges, "bytes");
      send(std::move(res));
      return;
    }
    const bool partial = range.kind == RangeAnswer::Kind::kPartial;
    Response res{partial ? http::status::partial_content : http::status::ok, 11};
    res.set(http::field::content_type, e.meta.content_type);
    SetStoredValueHeaders(&res, e.meta, e.etag);
    res.set(http::field::accept_ranges, "bytes");
    if (e.meta.expires_us != 0) res.set(http::field::expires, FormatHttpDate(e.meta.expires_us));
    if (partial) {
      res.set(http::field::content_range, ContentRange(range, value.size()));
      value = value.Slice(range.first, range.last - range.first + 1);
    }
    res.body() = std::move(value);
    res.prepare_payload();
    send(std::move(res));
  };
  storage_->Read(std::move(job));
}

void Router::HandleKvPut(Target&& t, Request&& req, Responder respond) {
  struct State {
    PutInput in;  // moved into the store by the job
    std::string key;
    uint64_t size = 0;
    WriteResult result;
  };
  auto state = std::make_shared<State>();
  PutInput& in = state->in;
  std::optional<Response> error;
  if (!ParseCondition(req, http::field::if_match, &in.if_match, &error) ||
      !ParseCondition(req, http::field::if_none_match, &in.if_none_match, &error)) {
    respond(std::move(*error));
    return;
  }
  in.if_unmodified_since_s = ParseUnmodifiedSince(req);
  if (std::optional<Response> refused = LockIdOf(t, req, false, &in.lock_id)) {
    respond(std::move(*refused));
    return;
  }
  std::string_view content_type = req[http::field::content_type];
  while (!content_type.empty() && content_type.back() == ' ') content_type.remove_suffix(1);
  // curl -d / --data-binary send this type whatever the bytes are; a value store has no use for
  // form decoding, so it means "no type given" and the bytes are sniffed (docs/server.md).
  if (IsFormUrlencoded(content_type)) content_type = {};
  if (content_type.size() > kMaxContentTypeSize) {
    respond(MakeErrorResponse(
        http::status::bad_request,
        "the Content-Type is longer than " + std::to_string(kMaxContentTypeSize) + " bytes"));
    return;
  }
  state->key = t.key;
  in.key = std::move(t.key);
  in.body = std::move(req.body());
  state->size = in.body.size();
  in.content_type = content_type.empty() ? DetectContentType(in.body) : std::string(content_type);
  in.ttl_seconds = t.ttl;
  StorageJob job;
  job.run = [state](KvStore& store) {
    state->result = store.Put(std::move(state->in));
    return state->result.wrote;
  };
  job.complete = [state, respond, cache = storage_->caches().Find(state->key)](const Status& sync) {
    const WriteResult& r = state->result;
    const std::string& key = state->key;
    if (!r.status.ok()) {
      respond(MakeEngineErrorResponse(r.status, "storing " + JsonQuote(key)));
      return;
    }
    if (!sync.ok()) {
      respond(MakeEngineErrorResponse(sync, "making the write of " + JsonQuote(key) + " durable"));
      return;
    }
    if (r.outcome == WriteOutcome::kPreconditionFailed) {
      Response res = MakeErrorResponse(http::status::precondition_failed,
                                       "precondition failed: the value at " + JsonQuote(key) +
                                           " does not match If-Match / If-None-Match / "
                                           "If-Unmodified-Since; nothing stored");
      SetRevision(&res, r.revision);
      respond(std::move(res));
      return;
    }
    if (r.outcome == WriteOutcome::kLocked) {
      Response res = LockedResponse(key, r.holder, "storing");
      SetRevision(&res, r.revision);
      respond(std::move(res));
      return;
    }
    if (r.outcome == WriteOutcome::kTooLarge) {
      Response res = CacheEntryTooLarge(*cache, CacheQuota::EntryBytes(key, state->size));
      SetRevision(&res, r.revision);
      respond(std::move(res));
      return;
    }
    const bool created = r.outcome == WriteOutcome::kCreated;
    nlohmann::json body = EntryJson(key, state->size, r.meta, r.etag);
    body["revision"] = r.revision;
    Response res = MakeJsonResponse(created ? http::status::created : http::status::ok, body);
    SetRevision(&res, r.revision);
    res.set(http::field::etag, r.etag);
    res.set(http::field::last_modified, FormatHttpDate(r.meta.modified_us));
    if (created) res.set(http::field::location, "/kv/" + PercentEncodePath(key));
    respond(std::move(res));
  };
  Submit(std::move(job), respond);
}

void Router::HandleKvDelete(Target&& t, const Request& req, Responder respond) {
  std::optional<EtagCondition> if_match;
  std::optional<Response> error;
  if (!ParseCondition(req, http::field::if_match, &if_match, &error)) {
    respond(std::move(*error));
    return;
  }
  std::string lock_id;
  if (std::optional<Response> refused = LockIdOf(t, req, false, &lock_id)) {
    respond(std::move(*refused));
    return;
  }
  auto key = std::make_shared<std::string>(std::move(t.key));
  auto result = std::make_shared<WriteResult>();
  StorageJob job;
  job.run = [key, result, if_match = std::move(if_match), since = ParseUnmodifiedSince(req),
             lock_id = std::move(lock_id)](KvStore& store) {
    *result = store.Delete(*key, if_match, since, lock_id);
    return result->wrote;
  };
  job.complete = [key, result, respond](const Status& sync) {
    if (!result->status.ok()) {
      respond(MakeEngineErrorResponse(result->status, "deleting " + JsonQuote(*key)));
      return;
    }
    if (!sync.ok()) {
      respond(
          MakeEngineErrorResponse(sync, "making the delete of " + JsonQuote(*key) + " durable"));
      return;
    }
    Response res;
    switch (result->outcome) {
      case WriteOutcome::kPreconditionFailed:
        res = MakeErrorResponse(http::status::precondition_failed,
                                "precondition failed: the value at " + JsonQuote(*key) +
                                    " does not match If-Match / If-Unmodified-Since; "
                                    "nothing deleted");
        break;
      case WriteOutcome::kNotFound:
        res = MakeErrorResponse(http::status::not_found, "no value at key " + JsonQuote(*key));
        break;
      case WriteOutcome::kLocked:
        res = LockedResponse(*key, result->holder, "deleting");
        break;
      default:
        // 200 with a body, not 204: Terraform's http backend takes only 200 for a DELETE.
        res = MakeJsonResponse(http::status::ok, {{"key", *key}, {"revision", result->revision}});
        break;
    }
    SetRevision(&res, result->revision);
    respond(std::move(res));
  };
  Submit(std::move(job), respond);
}

void Router::HandleKvList(Target&& t, Responder respond) {
  struct State {
    std::string prefix, after, delimiter;
    ListRequest request;
    ListResult result;
  };
  auto state = std::make_shared<State>();
  state->prefix = t.params["prefix"];
  state->after = t.params["after"];
  state->delimiter = t.params["delimiter"];
  if (state->delimiter.size() > kMaxDelimiterSize) {
    respond(MakeErrorResponse(http::status::bad_request,
                              "the delimiter is " + std::to_string(state->delimiter.size()) +
                                  " bytes; the limit is " + std::to_string(kMaxDelimiterSize)));
    return;
  }
  std::string error;
  std::shared_ptr<const KeyPattern> search = SearchOf(t.params, &error);
  if (!error.empty()) {
    respond(MakeErrorResponse(http::status::bad_request, error));
    return;
  }
  // A glob's literal start narrows the scan, unless folders are cut relative to the prefix.
  if (search && state->delimiter.empty() && search->literal_prefix().starts_with(state->prefix)) {
    state->prefix = search->literal_prefix();
  }
  state->request.prefix = state->prefix;
  state->request.after = state->after;
  state->request.delimiter = state->delimiter;
  state->request.limit = t.limit.value_or(kDefaultListLimit);
  HideUnreadable(t.token, KeySpace::kKv, &state->request, std::move(search));
  StorageJob job;
  job.run = [state](KvStore& store) {
    // The revision is the page's one snapshot: a watch from it misses none of the later changes.
    state->result = store.List(state->request);
    return false;
  };
  job.complete = [state, respond](const Status&) {
    const ListResult& r = state->result;
    if (!r.status.ok()) {
      respond(MakeEngineErrorResponse(r.status, "listing keys"));
      return;
    }
    nlohmann::json keys = nlohmann::json::array();
    for (const ListEntry& e : r.entries) keys.push_back(EntryJson(e.key, e.size, e.meta, e.etag));
    nlohmann::json body = {
        {"keys", std::move(keys)}, {"next", NextCursor(r.next)}, {"revision", r.revision}};
    if (!state->delimiter.empty()) {
      nlohmann::json folders = nlohmann::json::array();
      for (const ListFolder& f : r.folders) {
        folders.push_back({{"prefix", f.prefix}, {"keys", f.keys}, {"size", f.size}});
      }
      body["folders"] = std::move(folders);
    }
    Response res = MakeJsonResponse(http::status::ok, body);
    SetRevision(&res, r.revision);
    respond(std::move(res));
  };
  storage_->Read(std::move(job));  // on this I/O thread
}

void Router::HandleSeqList(Target&& t, Responder respond) {
  struct State {
    std::string prefix, after;
    ListRequest request;
    CounterListResult result;
  };
  auto state = std::make_shared<State>();
  state->prefix = t.params["prefix"];
  state->after = t.params["after"];
  state->request.prefix = state->prefix;
  state->request.after = state->after;
  state->request.limit = t.limit.value_or(kDefaultListLimit);
  HideUnreadable(t.token, KeySpace::kSeq, &state->request);
  StorageJob job;
  job.run = [state](KvStore& store) {
    state->result = store.ListCounters(state->request);
    return false;
  };
  job.complete = [state, respond](const Status&) {
    const CounterListResult& r = state->result;
    if (!r.status.ok()) {
      respond(MakeEngineErrorResponse(r.status, "listing counters"));
      return;
    }
    nlohmann::json counters = nlohmann::json::array();
    for (const CounterEntry& c : r.counters) {
      counters.push_back({{"name", c.name}, {"value", c.value}});
    }
    Response res = MakeJsonResponse(http::status::ok, {{"counters", std::move(counters)},
                                                       {"next", NextCursor(r.next)},
                                                       {"revision", r.revision}});
    SetRevision(&res, r.revision);
    respond(std::move(res));
  };
  storage_->Read(std::move(job));  // on this I/O thread
}

void Router::HandleSeq(Target&& t, const Request& req, Responder respond) {
  struct State {
    std::string name;
    int64_t by = 1;
    CounterResult result;
  };
  auto state = std::make_shared<State>();
  state->name = std::move(t.key);
  state->by = t.by;
  const http::verb method = req.method();
  StorageJob job;
  job.run = [state, method](KvStore& store) {
    if (method == http::verb::post) {
      state->result = store.AddToCounter(state->name, state->by);
    } else if (method == http::verb::delete_) {
      state->result = store.ResetCounter(state->name);
    } else {
      state->result = store.GetCounter(state->name);
    }
    return state->result.wrote;
  };
  job.complete = [state, method, respond](const Status& sync) {
    const CounterResult& r = state->result;
    const std::string name = JsonQuote(state->name);
    if (!r.status.ok()) {
      respond(MakeEngineErrorResponse(r.status, "updating counter " + name));
      return;
    }
    if (!sync.ok()) {
      respond(MakeEngineErrorResponse(sync, "making counter " + name + " durable"));
      return;
    }
    if (r.overflow) {
      respond(MakeErrorResponse(http::status::conflict,
                                "counter " + name + " is " + std::to_string(r.value) + "; adding " +
                                    std::to_string(state->by) +
                                    " would overflow a signed 64-bit integer; nothing changed"));
      return;
    }
    Response res = method == http::verb::delete_
                       ? EmptyResponse(http::status::no_content)
                       : MakeJsonResponse(
                             http::status::ok,
                             {{"name", state->name}, {"value", r.value}, {"revision", r.revision}});
    SetRevision(&res, r.revision);
    respond(std::move(res));
  };
  if (method == http::verb::post || method == http::verb::delete_) {
    Submit(std::move(job), respond);
  } else {
    storage_->Read(std::move(job));  // GET and HEAD: on this I/O thread
  }
}

}  // namespace keyva::server
