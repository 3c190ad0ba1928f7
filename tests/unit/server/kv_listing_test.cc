// KvStore::List with a delimiter (folders with exact counts), a visibility filter, and
// KvStore::ListCounters: pages, cursors, expiry, and a randomized check against a model.
#include <catch2/catch.hpp>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "tests/unit/server/kv_store_fixture.h"

namespace keyva::server {
namespace {

ListRequest PageOf(std::string_view prefix, std::string_view after = "", size_t limit = 100,
                   std::string_view delimiter = "") {
  ListRequest request;
  request.prefix = prefix;
  request.after = after;
  request.limit = limit;
  request.delimiter = delimiter;
  return request;
}

ListRequest Folders(std::string_view prefix, std::string_view after = "", size_t limit = 100) {
  return PageOf(prefix, after, limit, "/");
}

std::vector<std::string> Keys(const ListResult& r) {
  std::vector<std::string> keys;
  for (const ListEntry& e : r.entries) keys.push_back(e.key);
  return keys;
}

std::vector<std::string> FolderNames(const ListResult& r) {
  std::vector<std::string> names;
  for (const ListFolder& f : r.folders) names.push_back(f.prefix);
  return names;
}

using Strings = std::vector<std::string>;

TEST_CASE("KvStore: a listing with a delimiter shows folders with exact counts and sizes") {
  test::KvStoreFixture f;
  f.Put("a", "1");
  f.Put("cache/x", "12");
  f.Put("cache/y/deep", "123");
  f.Put("config/app.json", "{}");
  f.Put("config", "top");  // a key beside the folder of the same name
  f.Put("z", "9");
  REQUIRE(f.store->AddToCounter("cache/hits", 1).status.ok());  // counters are not keys

  ListResult r = f.store->List(Folders(""));
  REQUIRE(r.status.ok());
  CHECK(Keys(r) == Strings{"a", "config", "z"});
  REQUIRE(FolderNames(r) == Strings{"cache/", "config/"});
  CHECK(r.folders[0].keys == 2);
  CHECK(r.folders[0].size == 5);
  CHECK(r.folders[1].keys == 1);
  CHECK(r.folders[1].size == 2);
  CHECK_FALSE(r.next.has_value());

  // One level down: the prefix is part of every name.
  r = f.store->List(Folders("cache/"));
  CHECK(Keys(r) == Strings{"cache/x"});
  REQUIRE(FolderNames(r) == Strings{"cache/y/"});
  CHECK(r.folders[0].keys == 1);

  // A prefix that is not a folder boundary groups by what follows it.
  r = f.store->List(Folders("c"));
  CHECK(Keys(r) == Strings{"config"});
  CHECK(FolderNames(r) == Strings{"cache/", "config/"});

  // Without a delimiter nothing is grouped.
  CHECK(f.store->List("", "", 100).entries.size() == 6);
  CHECK(f.store->List("", "", 100).folders.empty());
}

TEST_CASE("KvStore: folder pages go on after a folder named as the cursor") {
  test::KvStoreFixture f;
  for (int i = 0; i < 50; i++) f.Put("big/" + std::to_string(100 + i), "v");
  for (const char* k : {"a", "big", "c/1", "d", "e/1", "e/2"}) f.Put(k, "v");

  ListResult r = f.store->List(Folders("", "", 2));
  CHECK(Keys(r) == Strings{"a", "big"});
  REQUIRE(r.next == std::optional<std::string>("big"));
  r = f.store->List(Folders("", *r.next, 2));
  CHECK(Keys(r).empty());
  REQUIRE(FolderNames(r) == Strings{"big/", "c/"});
  CHECK(r.folders[0].keys == 50);
  REQUIRE(r.next == std::optional<std::string>("c/"));
  r = f.store->List(Folders("", *r.next, 2));
  CHECK(Keys(r) == Strings{"d"});
  CHECK(FolderNames(r) == Strings{"e/"});
  CHECK_FALSE(r.next.has_value());

  // A cursor inside a folder (a key of it) also skips the rest of that folder.
  r = f.store->List(Folders("", "big/120", 10));
  CHECK(FolderNames(r) == Strings{"c/", "e/"});
  CHECK(Keys(r) == Strings{"d"});
}

TEST_CASE("KvStore: expired keys are neither listed nor counted in a folder") {
  test::KvStoreFixture f;
  f.Put("t/short", "12345", nullptr, nullptr, 10);
  f.Put("t/long", "12", nullptr, nullptr, 1000);
  f.Put("gone/only", "x", nullptr, nullptr, 10);
  f.env.SetNowMicros(1'000'000'000 + 10'000'000);
  ListResult r = f.store->List(Folders(""));
  REQUIRE(FolderNames(r) == Strings{"t/"});  // gone/ has no live key left
  CHECK(r.folders[0].keys == 1);
  CHECK(r.folders[0].size == 2);
}

TEST_CASE("KvStore: a visibility filter hides keys from pages and from folder counts") {
  test::KvStoreFixture f;
  for (int i = 0; i < 30; i++) f.Put("secret/" + std::to_string(i), "v");
  f.Put("mixed/open", "v");
  f.Put("mixed/secret", "v");
  f.Put("open", "v");
  f.Put("secret-top", "v");
  ListRequest request = Folders("");
  request.visible = [](std::string_view key) { return key.find("secret") == std::string::npos; };
  ListResult r = f.store->List(request);
  CHECK(Keys(r) == Strings{"open"});
  REQUIRE(FolderNames(r) == Strings{"mixed/"});
  CHECK(r.folders[0].keys == 1);

  // After max_hidden hidden keys the page ends where it stopped; paging on still reaches the end
  // and shows the same items.
  request.max_hidden = 4;
  request.delimiter = {};
  std::vector<std::string> seen;
  std::string after;
  int pages = 0;
  for (;; pages++) {
    REQUIRE(pages < 100);
    request.after = after;
    r = f.store->List(request);
    for (const std::string& k : Keys(r)) seen.push_back(k);
    if (!r.next) break;
    CHECK(*r.next > after);  // every page makes progress
    after = *r.next;
  }
  CHECK(pages >= 30 / 4);
  CHECK(seen == Strings{"mixed/open", "open"});
}

TEST_CASE("KvStore: counters are listed with their values, paged, and apart from keys") {
  test::KvStoreFixture f;
  for (int i = 0; i < 5; i++)
    REQUIRE(f.store->AddToCounter("hits/" + std::to_string(i), i).status.ok());
  REQUIRE(f.store->AddToCounter("visits", -7).status.ok());
  f.Put("hits/0", "a value, not a counter");

  CounterListResult r = f.store->ListCounters(PageOf("", "", 4));
  REQUIRE(r.status.ok());
  REQUIRE(r.counters.size() == 4);
  CHECK(r.counters[0].name == "hits/0");
  CHECK(r.counters[3].value == 3);
  REQUIRE(r.next == std::optional<std::string>("hits/3"));
  r = f.store->ListCounters(PageOf("", *r.next, 4));
  REQUIRE(r.counters.size() == 2);
  CHECK(r.counters[1].name == "visits");
  CHECK(r.counters[1].value == -7);
  CHECK_FALSE(r.next.has_value());

  r = f.store->ListCounters(PageOf("v"));
  REQUIRE(r.counters.size() == 1);
  CHECK(r.counters[0].name == "visits");
  // A reset counter is gone from the list.
  REQUIRE(f.store->ResetCounter("visits").status.ok());
  CHECK(f.store->ListCounters(PageOf("v")).counters.empty());
}

TEST_CASE("KvStore: paged folder listings agree with a model (randomized)") {
  test::KvStoreFixture f;
  std::mt19937 rng(20261202);
  const char* parts[] = {"a", "b", "ab", "a/", "/", "x", "::", "b/c"};
  std::map<std::string, size_t> model;  // key -> value size
  for (int i = 0; i < 400; i++) {
    std::string key;
    const int n = 1 + static_cast<int>(rng() % 4);
    for (int j = 0; j < n; j++) key += parts[rng() % 8];
    const std::string value(rng() % 7, 'v');
    f.Put(key, value);
    model[key] = value.size();
  }
  for (const std::string prefix : {"", "a", "a/", "b/", "x::"}) {
    for (const std::string delimiter : {"/", "::"}) {
      // The model: keys directly under prefix, folders with counts and sizes, in one order.
      std::map<std::string, std::pair<uint64_t, uint64_t>> folders;
      std::set<std::string> keys;
      for (const auto& [k, size] : model) {
        if (!k.starts_with(prefix)) continue;
        const size_t d = k.find(delimiter, prefix.size());
        if (d == std::string::npos) {
          keys.insert(k);
        } else {
          auto& [count, bytes] = folders[k.substr(0, d + delimiter.size())];
          count++;
          bytes += size;
        }
      }
      for (size_t limit : {1, 3, 1000}) {
        CAPTURE(prefix, delimiter, limit);
        std::set<std::string> got_keys;
        std::map<std::string, std::pair<uint64_t, uint64_t>> got_folders;
        std::string after;
        for (int page = 0;; page++) {
          REQUIRE(page < 1000);
          ListResult r = f.store->List(PageOf(prefix, after, limit, delimiter));
          REQUIRE(r.status.ok());
          CHECK(r.entries.size() + r.folders.size() <= limit);
          for (const ListEntry& e : r.entries) CHECK(got_keys.insert(e.key).second);
          for (const ListFolder& fo : r.folders) {
            CHECK(got_folders.emplace(fo.prefix, std::make_pair(fo.keys, fo.size)).second);
          }
          if (!r.next) break;
          after = *r.next;
        }
        CHECK(got_keys == keys);
        CHECK(got_folders == folders);
      }
    }
  }
}

}  // namespace
}  // namespace keyva::server
