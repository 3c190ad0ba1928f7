// Unit tests of ResponseMemory and Payload: sharing, the budget, and release by the last holder.
#include "internal/server/response_memory.h"

#include <catch2/catch.hpp>
#include <string>

#include "internal/server/payload.h"

namespace keyva::server {

TEST_CASE("a value in flight is shared by key and ETag, and released by its last holder") {
  ResponseMemory memory(1u << 20);
  const std::string big(100'000, 'v');
  auto a = memory.Share("k", "\"1\"", big);
  auto b = memory.Share("k", "\"1\"", big);
  CHECK(a == b);
  CHECK(memory.shared() == 1);
  CHECK(memory.held_bytes() == big.size());
  auto other_etag = memory.Share("k", "\"2\"", big);
  CHECK(other_etag != a);
  CHECK(memory.held_bytes() == 2 * big.size());
  Payload p(a);
  a.reset();
  b.reset();
  CHECK(memory.held_bytes() == 2 * big.size());  // the Payload still holds it
  p.clear();
  CHECK(memory.held_bytes() == big.size());
  other_etag.reset();
  CHECK(memory.held_bytes() == 0);
  // Once released, the same key and ETag is charged afresh, not found stale.
  auto again = memory.Share("k", "\"1\"", big);
  CHECK(memory.shared() == 1);
  CHECK(memory.held_bytes() == big.size());
}

TEST_CASE("the budget refuses values beyond it, but always admits one") {
  ResponseMemory memory(150'000);
  const std::string big(100'000, 'v');
  auto first = memory.Share("a", "\"1\"", big);
  REQUIRE(first);
  CHECK(memory.Share("b", "\"1\"", big) == nullptr);
  CHECK(memory.refused() == 1);
  CHECK(memory.Share("a", "\"1\"", big) == first);           // sharing costs nothing
  CHECK(memory.Share("small", "\"1\"", "tiny") != nullptr);  // small values are not counted
  first.reset();
  ResponseMemory tiny(1);
  CHECK(tiny.Share("a", "\"1\"", big) != nullptr);  // nothing held: admitted
}

TEST_CASE("a Payload shares its bytes and may outlive the ResponseMemory") {
  Payload p;
  {
    ResponseMemory memory(1u << 20);
    p = Payload(memory.Share("k", "\"1\"", std::string(70'000, 'x')));
  }
  CHECK(p.size() == 70'000);
  Payload copy = p;
  CHECK(copy.data() == p.data());
  CHECK(copy.use_count() == 2);
  CHECK(Payload::Static("abc") == "abc");
  CHECK(Payload(std::string("owned")) == "owned");
}

}  // namespace keyva::server
