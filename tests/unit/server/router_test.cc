// Router + StorageThread over a real DB on the in-memory FaultEnv: backpressure (503), group
// commit, and how engine failures become 507 / 500 (router.h, storage_thread.h).
#include "internal/server/router.h"

#include <catch2/catch.hpp>
#include <future>

#include "internal/engine/testing/fault_env.h"

namespace keyva::server {
namespace {

PutInput Input(const std::string& key, const std::string& body) {
  PutInput in;
  in.key = key;
  in.body = body;
  in.content_type = "text/plain";
  return in;
}

Request MakeRequest(http::verb method, const std::string& target, const std::string& body = "",
                    const std::vector<std::pair<std::string, std::string>>& headers = {}) {
  Request req{method, target, 11};
  for (const auto& [k, v] : headers) req.set(k, v);
  req.body() = body;
  if (method == http::verb::put || method == http::verb::post) req.prepare_payload();
  return req;
}

struct Fixture {
  // prepare runs on the DB before the storage thread owns it.
  explicit Fixture(size_t queue_capacity = 16,
                   std::function<void(DB*, FaultEnv*)> prepare = nullptr) {
    Options o;
    o.env = &env;
    std::unique_ptr<DB> db;
    REQUIRE(DB::Open(o, "/db", &db).ok());
    if (prepare) prepare(db.get(), &env);
    StorageThread::Settings s;
    s.queue_capacity = queue_capacity;
    storage = std::make_unique<StorageThread>(std::move(db), s, [this] { return env.NowMicros(); });
    router = std::make_unique<Router>(config, storage.get(), &metrics);
  }
  ~Fixture() { (void)storage->Stop(); }  // a destructor cannot fail the test case

  // Runs the header checks and, when they pass, hands the request to the router.
  std::future<Response> Send(Request req) {
    auto promise = std::make_shared<std::promise<Response>>();
    std::future<Response> result = promise->get_future();
    if (std::optional<Response> refusal = router->CheckHeader(req)) {
      promise->set_value(std::move(*refusal));
      return result;
    }
    router->Handle(std::move(req),
                   [promise](Response&& res) { promise->set_value(std::move(res)); });
    return result;
  }
  Response Call(Request req) { return Send(std::move(req)).get(); }

  FaultEnv env;
  ServerConfig config;
  ServerMetrics metrics;
  std::unique_ptr<StorageThread> storage;
  std::unique_ptr<Router> router;
};

nlohmann::json Json(const Response& r) { return nlohmann::json::parse(r.body()); }

}  // namespace

TEST_CASE("a full storage queue answers 503 with Retry-After, queued requests still finish") {
  Fixture f(/*queue_capacity=*/2);  // the storage thread is not started yet
  auto first = f.Send(MakeRequest(http::verb::put, "/kv/a", "1"));
  auto second = f.Send(MakeRequest(http::verb::post, "/seq/n"));
  Response refused = f.Call(MakeRequest(http::verb::put, "/kv/b", "2"));
  CHECK(refused.result_int() == 503);
  CHECK(refused[http::field::retry_after] == "1");
  CHECK(Json(refused)["status"] == 503);
  CHECK(f.storage->counters().rejected == 1);
  CHECK(f.storage->QueueDepth() == 2);
  // Reads never queue: answered at once from what is published (the queued PUT is not yet).
  CHECK(f.Call(MakeRequest(http::verb::get, "/kv/a")).result_int() == 404);
  CHECK(f.storage->counters().rejected == 1);

  REQUIRE(f.storage->Start().ok());
  CHECK(first.get().result_int() == 201);
  CHECK(Json(second.get())["value"] == 1);
  Response got = f.Call(MakeRequest(http::verb::get, "/kv/a"));
  CHECK(got.result_int() == 200);
  CHECK(got.body() == "1");
  CHECK(f.Call(MakeRequest(http::verb::get, "/kv/b")).result_int() == 404);
}

TEST_CASE("reads run on the calling thread and see every acknowledged write") {
  Fixture f;
  REQUIRE(f.storage->Start().ok());
  for (int i = 0; i < 50; i++) {
    const std::string key = "/kv/r" + std::to_string(i % 5);
    const std::string value = "v" + std::to_string(i);
    REQUIRE(f.Call(MakeRequest(http::verb::put, key, value)).result_int() / 100 == 2);
    Response got = f.Call(MakeRequest(http::verb::get, key));
    CHECK(got.result_int() == 200);
    CHECK(got.body() == value);
    REQUIRE(f.Call(MakeRequest(http::verb::post, "/seq/c")).result_int() == 200);
    CHECK(Json(f.Call(MakeRequest(http::verb::get, "/seq/c")))["value"] == i + 1);
  }
  CHECK(Json(f.Call(MakeRequest(http::verb::get, "/kv/?prefix=r")))["keys"].size() == 5);
  CHECK(f.storage->counters().jobs == 100);  // the PUTs and POSTs only
  CHECK(f.storage->counters().reads == 101);
}

TEST_CASE("writes queued together are made durable with one WAL sync") {
  Fixture f;
  std::vector<std::future<Response>> replies;
  for (int i = 0; i < 10; i++) {
    replies.push_back(f.Send(MakeRequest(http::verb::put, "/kv/k" + std::to_string(i), "v")));
  }
  REQUIRE(f.storage->Start().ok());  // the whole queue is one batch
  for (int i = 0; i < 10; i++) CHECK(replies[i].get().result_int() == 201);
  CHECK(f.Call(MakeRequest(http::verb::get, "/kv/k3")).body() == "v");
  CHECK(f.storage->counters().batches == 1);
  CHECK(f.storage->counters().jobs == 10);
  CHECK(f.storage->counters().wal_syncs == 1);
  // Reads alone need no sync.
  f.Call(MakeRequest(http::verb::get, "/kv/k1"));
  CHECK(f.storage->counters().wal_syncs == 1);
}

TEST_CASE("a full disk is 507, other I/O errors 500, reads keep working") {
  Fixture f;
  REQUIRE(f.storage->Start().ok());
  REQUIRE(f.Call(MakeRequest(http::verb::put, "/kv/kept", "v")).result_int() == 201);
  CHECK(f.Call(MakeRequest(http::verb::get, "/healthz")).result_int() == 200);

  f.env.SetFailureCode(Status::Code::kNoSpace);
  f.env.FailOperation(1, /*sticky=*/true);
  Response full = f.Call(MakeRequest(http::verb::put, "/kv/new", "v"));
  CHECK(full.result_int() == 507);
  CHECK(Json(full)["status"] == 507);
  CHECK(Json(full)["error"].get<std::string>().find("disk is full") != std::string::npos);
  CHECK(f.Call(MakeRequest(http::verb::post, "/seq/n")).result_int() == 507);

  f.env.SetFailureCode(Status::Code::kIOError);
  Response failed = f.Call(MakeRequest(http::verb::delete_, "/kv/kept"));
  CHECK(failed.result_int() >= 500);
  CHECK(failed.result_int() != 503);
  CHECK(Json(failed)["status"] == failed.result_int());

  f.env.ClearFaults();
  Response read = f.Call(MakeRequest(http::verb::get, "/kv/kept"));
  CHECK(read.result_int() == 200);
  CHECK(read.body() == "v");
  // Health reports the failed writes.
  Response health = f.Call(MakeRequest(http::verb::get, "/healthz"));
  CHECK(health.result_int() == 503);
}

TEST_CASE("a failed group commit fails the batch's writes but not its reads") {
  // Count the file operations of one unsynced write, on the fixture's own DB before the
  // storage thread takes it.
  uint64_t write_ops = 0;
  Fixture f(16, [&](DB* db, FaultEnv* env) {
    KvStore store(
        db, [env] { return env->NowMicros(); }, KvStore::Commit::kGroup);
    uint64_t trimmed = 0;
    REQUIRE(store.OpenFeed(&trimmed).ok());  // so StorageThread::Start writes nothing
    REQUIRE(store.Put(Input("warm", "v")).status.ok());
    REQUIRE(db->SyncWal().ok());
    uint64_t before = env->OperationCount();
    REQUIRE(store.Put(Input("warm", "w")).status.ok());
    write_ops = env->OperationCount() - before;
    REQUIRE(db->SyncWal().ok());
    db->Publish();
  });
  REQUIRE(write_ops > 0);
  auto put_a = f.Send(MakeRequest(http::verb::put, "/kv/a", "1"));
  auto get = f.Send(MakeRequest(http::verb::get, "/kv/warm"));
  auto put_b = f.Send(MakeRequest(http::verb::put, "/kv/b", "2"));
  // One batch: two writes, then the sync - which fails.
  f.env.FailOperation(2 * write_ops + 1, /*sticky=*/true);
  REQUIRE(f.storage->Start().ok());
  for (auto* reply : {&put_a, &put_b}) {
    Response r = reply->get();
    INFO(r.body());
    CHECK(r.result_int() == 500);
    CHECK(Json(r)["error"].get<std::string>().find("durable") != std::string::npos);
  }
  Response read = get.get();
  CHECK(read.result_int() == 200);
  CHECK(read.body() == "w");
  CHECK(f.storage->counters().failed_syncs == 1);
  f.env.ClearFaults();
}

}  // namespace keyva::server
