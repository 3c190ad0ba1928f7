// The bounded MPSC channel between I/O threads and the storage thread (request_channel.h).
#include "internal/server/request_channel.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <memory>
#include <set>
#include <thread>

namespace keyva::server {

TEST_CASE("the channel refuses beyond its capacity and hands out oldest first") {
  RequestChannel<std::unique_ptr<int>> ch(3);
  for (int i = 0; i < 3; i++) {
    auto item = std::make_unique<int>(i);
    REQUIRE(ch.TryPush(&item));
    CHECK(item == nullptr);  // moved in
  }
  auto extra = std::make_unique<int>(99);
  CHECK_FALSE(ch.TryPush(&extra));
  REQUIRE(extra != nullptr);  // refused items are left with the caller
  CHECK(*extra == 99);
  CHECK(ch.Size() == 3);

  std::vector<std::unique_ptr<int>> batch;
  REQUIRE(ch.PopBatch(&batch, 2, std::chrono::milliseconds(0)));
  REQUIRE(batch.size() == 2);
  CHECK(*batch[0] == 0);
  CHECK(*batch[1] == 1);
  CHECK(ch.TryPush(&extra));  // room again
  batch.clear();
  REQUIRE(ch.PopBatch(&batch, 10, std::chrono::milliseconds(0)));
  REQUIRE(batch.size() == 2);
  CHECK(*batch[0] == 2);
  CHECK(*batch[1] == 99);
}

TEST_CASE("a closed channel refuses pushes but drains what it holds") {
  RequestChannel<int> ch(4);
  int a = 1, b = 2;
  REQUIRE(ch.TryPush(&a));
  ch.Close();
  CHECK_FALSE(ch.TryPush(&b));
  std::vector<int> batch;
  CHECK(ch.PopBatch(&batch, 10, std::chrono::milliseconds(0)));
  CHECK(batch == std::vector<int>{1});
  batch.clear();
  CHECK_FALSE(ch.PopBatch(&batch, 10, std::chrono::milliseconds(0)));
  CHECK(batch.empty());
}

TEST_CASE("an idle PopBatch returns empty after its timeout, Close wakes it") {
  RequestChannel<int> ch(1);
  std::vector<int> batch;
  CHECK(ch.PopBatch(&batch, 1, std::chrono::milliseconds(1)));
  CHECK(batch.empty());
  std::thread closer([&] { ch.Close(); });
  // Waits at most "forever" (an hour) unless Close wakes it.
  CHECK_FALSE(ch.PopBatch(&batch, 1, std::chrono::hours(1)));
  closer.join();
}

TEST_CASE("many producers, one consumer: every accepted item arrives exactly once") {
  RequestChannel<int> ch(8);
  constexpr int kProducers = 4, kEach = 2000;
  std::atomic<int> accepted{0};
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; p++) {
    producers.emplace_back([&, p] {
      for (int i = 0; i < kEach; i++) {
        int v = p * kEach + i;
        while (!ch.TryPush(&v)) std::this_thread::yield();
        accepted++;
      }
    });
  }
  std::set<int> seen;
  std::vector<int> batch;
  while (seen.size() < static_cast<size_t>(kProducers * kEach)) {
    batch.clear();
    ch.PopBatch(&batch, 5, std::chrono::milliseconds(10));
    CHECK(batch.size() <= 5);
    for (int v : batch) CHECK(seen.insert(v).second);
  }
  for (auto& t : producers) t.join();
  CHECK(accepted == kProducers * kEach);
  CHECK(ch.Size() == 0);
}

}  // namespace keyva::server
