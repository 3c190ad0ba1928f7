// The change feed's checker; see feed_check.h.
#include "tests/util/feed_check.h"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

namespace keyva::testing {
namespace {

bool HasPrefix(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

// At most this many problems are listed, then how many more there were.
constexpr size_t kMaxProblems = 40;

class Problems {
 public:
  void Add(std::string what) {
    if (list_.size() < kMaxProblems) {
      list_.push_back(std::move(what));
    } else {
      more_++;
    }
  }
  std::vector<std::string> Take() {
    if (more_ > 0) list_.push_back("... and " + std::to_string(more_) + " more problems");
    return std::move(list_);
  }

 private:
  std::vector<std::string> list_;
  size_t more_ = 0;
};

}  // namespace

std::string Describe(const FeedEvent& e) {
  std::string s = e.type + " " + e.key + " @" + std::to_string(e.revision);
  if (e.type == "put") s += " etag " + e.etag;
  if (e.type == "counter") s += " value " + std::to_string(e.value) + (e.reset ? " reset" : "");
  return s;
}

std::string Describe(const FeedChange& c) {
  std::string s = c.type + " " + c.key + " @" + std::to_string(c.revision);
  if (c.type == "put") s += " etag " + c.etag + (c.ttl ? " ttl" : "");
  if (c.type == "counter") s += " value " + std::to_string(c.value) + (c.reset ? " reset" : "");
  return s;
}

FeedEvent ParseFeedEvent(const nlohmann::json& j, std::vector<std::string>* problems,
                         const std::string& sse_id, const std::string& sse_type) {
  FeedEvent e;
  if (!j.is_object() || !j.contains("type") || !j["type"].is_string() || !j.contains("key") ||
      !j["key"].is_string() || !j.contains("revision") || !j["revision"].is_number_unsigned()) {
    problems->push_back("event without type, key or revision: " + j.dump());
    return e;
  }
  e.type = j["type"].get<std::string>();
  e.key = j["key"].get<std::string>();
  e.revision = j["revision"].get<uint64_t>();
  if (e.type == "put") {
    for (const char* field : {"etag", "size", "content_type", "modified"}) {
      if (!j.contains(field))
        problems->push_back("put event without " + std::string(field) + ": " + j.dump());
    }
    if (j.contains("etag") && j["etag"].is_string()) e.etag = j["etag"].get<std::string>();
  } else if (e.type == "counter") {
    if (!j.contains("value") || !j["value"].is_number_integer()) {
      problems->push_back("counter event without an integer value: " + j.dump());
    } else {
      e.value = j["value"].get<int64_t>();
    }
    e.reset = j.value("reset", false);
  } else if (e.type != "delete" && e.type != "expire") {
    problems->push_back("event of unknown type: " + j.dump());
  }
  if (!sse_id.empty() && sse_id != std::to_string(e.revision)) {
    problems->push_back("id: " + sse_id + " differs from the revision of " + j.dump());
  }
  if (!sse_type.empty() && sse_type != e.type) {
    problems->push_back("event: " + sse_type + " differs from the type of " + j.dump());
  }
  return e;
}

std::vector<std::string> CheckFeed(const FeedWatch& watch, const std::vector<FeedEvent>& got,
                                   const std::vector<FeedChange>& acked,
                                   const std::vector<FeedChange>& unknown) {
  Problems problems;
  // Revisions strictly increase: a duplicate or a reorder shows here first.
  for (size_t i = 1; i < got.size(); i++) {
    if (got[i].revision <= got[i - 1].revision) {
      problems.Add("event " + std::to_string(i) + " (" + Describe(got[i]) +
                   ") does not come after " + Describe(got[i - 1]) + ": duplicate or out of order");
    }
  }

  // The acknowledged changes this watcher must get, by revision, and every key's acknowledged
  // changes in revision order (for the expire rules, whatever the watch's start).
  std::map<uint64_t, const FeedChange*> expected;
  std::map<std::string, std::vector<const FeedChange*>> by_key;
  for (const FeedChange& c : acked) {
    if (!HasPrefix(c.key, watch.prefix)) continue;
    by_key[c.key].push_back(&c);
    if (c.revision <= watch.since || c.revision > watch.until) continue;
    if (!expected.emplace(c.revision, &c).second) {
      problems.Add("two acknowledged writes answered the same revision: " + Describe(c) + " and " +
                   Describe(*expected[c.revision]));
    }
  }
  for (auto& [key, changes] : by_key) {
    std::sort(changes.begin(), changes.end(),
              [](const FeedChange* a, const FeedChange* b) { return a->revision < b->revision; });
  }
  // Writes without an answer, by (type, key); each may show up once.
  std::multimap<std::pair<std::string, std::string>, bool> maybe;  // -> used
  std::set<std::string> maybe_ttl;  // keys of TTL puts without an answer
  for (const FeedChange& c : unknown) {
    if (!HasPrefix(c.key, watch.prefix)) continue;
    maybe.emplace(std::make_pair(c.type, c.key), false);
    if (c.type == "put" && c.ttl) maybe_ttl.insert(c.key);
  }

  std::set<uint64_t> seen;
  // Expires by the acknowledged TTL put they follow, and by key after TTL puts without an answer.
  std::map<const FeedChange*, int> expires_after;
  std::map<std::string, int> maybe_expires;
  for (const FeedEvent& e : got) {
    if (e.revision <= watch.since) {
      problems.Add("event at or before the watch's start " + std::to_string(watch.since) + ": " +
                   Describe(e));
    }
    if (e.revision > watch.until) continue;
    if (!HasPrefix(e.key, watch.prefix)) {
      problems.Add("event outside the prefix '" + watch.prefix + "': " + Describe(e));
      continue;
    }
    if (e.type == "expire") {
      // The key's acknowledged change just before the expire must be a TTL put.
      const FeedChange* before = nullptr;
      auto it = by_key.find(e.key);
      if (it != by_key.end()) {
        for (const FeedChange* c : it->second) {
          if (c->revision < e.revision) before = c;
        }
      }
      if (before != nullptr && before->type == "put" && before->ttl) {
        if (++expires_after[before] == 2) {
          problems.Add("a second expire for one TTL put (" + Describe(*before) +
                       "): " + Describe(e));
        }
      } else if (maybe_ttl.count(e.key) > 0) {
        if (++maybe_expires[e.key] == 2) {
          problems.Add("a second expire after a TTL put without an answer: " + Describe(e));
        }
      } else {
        problems.Add("expire of a key whose last acknowledged write before it had no TTL (" +
                     (before ? Describe(*before) : std::string("none")) + "): " + Describe(e));
      }
      continue;
    }
    auto it = expected.find(e.revision);
    if (it != expected.end()) {
      const FeedChange& c = *it->second;
      const bool same = c.type == e.type && c.key == e.key &&
                        (c.type != "put" || c.etag.empty() || c.etag == e.etag) &&
                        (c.type != "counter" || (c.value == e.value && c.reset == e.reset));
      if (!same) problems.Add("event " + Describe(e) + " differs from the write " + Describe(c));
      if (!seen.insert(e.revision).second) problems.Add("duplicate event " + Describe(e));
      continue;
    }
    auto range = maybe.equal_range({e.type, e.key});
    auto unused = std::find_if(range.first, range.second, [](const auto& m) { return !m.second; });
    if (unused != range.second) {
      unused->second = true;
      continue;
    }
    problems.Add("event matches no acknowledged write and no write without an answer: " +
                 Describe(e));
  }
  for (const auto& [revision, c] : expected) {
    if (seen.count(revision) == 0) problems.Add("missing (a gap): " + Describe(*c));
  }
  if (watch.require_expires) {
    for (const auto& [key, changes] : by_key) {
      const FeedChange* last = changes.back();
      if (last->type == "put" && last->ttl && last->revision > watch.since &&
          last->revision <= watch.until && expires_after.count(last) == 0) {
        problems.Add("no expire for the TTL put " + Describe(*last));
      }
    }
  }
  return problems.Take();
}

}  // namespace keyva::testing
