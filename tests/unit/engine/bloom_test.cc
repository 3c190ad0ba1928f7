// Tests for the bloom filter (bloom.h): false-positive rate, no false negatives, tiny/empty
// filters, probe count and malformed filters.
#include "internal/engine/table/bloom.h"

#include <catch2/catch.hpp>
#include <cstdio>
#include <string>

#include "internal/engine/util/hash.h"

namespace keyva {
namespace {

std::string NumberedKey(const char* prefix, int i) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%s%08d", prefix, i);
  return buf;
}

// Fraction of `queries` absent keys the filter lets through.
double FalsePositiveRate(const std::string& filter, int queries) {
  int hits = 0;
  for (int i = 0; i < queries; i++) {
    if (BloomFilterMayMatch(filter, NumberedKey("absent-", i))) hits++;
  }
  return static_cast<double>(hits) / queries;
}

}  // namespace

TEST_CASE("bloom filter: <= 1.2% false positives at 10 bits/key, no false negatives", "[bloom]") {
  constexpr int kKeys = 100000;
  constexpr int kQueries = 1000000;
  BloomFilterBuilder builder(10);
  for (int i = 0; i < kKeys; i++) builder.AddKey(NumberedKey("present-", i));
  CHECK(builder.NumKeys() == kKeys);
  const std::string filter = builder.Finish();
  CHECK(filter.size() == kKeys * 10 / 8 + 1);
  CHECK(static_cast<unsigned char>(filter.back()) == 7);
  REQUIRE(ValidateBloomFilter(filter).ok());

  for (int i = 0; i < kKeys; i++) {
    if (!BloomFilterMayMatch(filter, NumberedKey("present-", i))) FAIL("false negative " << i);
  }
  const double rate = FalsePositiveRate(filter, kQueries);
  std::printf("bloom: 10 bits/key, %d keys, %d absent queries: false-positive rate %.4f%%\n", kKeys,
              kQueries, rate * 100);
  CHECK(rate <= 0.012);
  CHECK(rate > 0.0);  // a filter that rejects everything would be broken too
}

TEST_CASE("bloom filter: other densities behave as expected", "[bloom]") {
  constexpr int kKeys = 20000;
  for (int bits : {1, 5, 20}) {
    BloomFilterBuilder builder(bits);
    for (int i = 0; i < kKeys; i++) builder.AddKey(NumberedKey("present-", i));
    const std::string filter = builder.Finish();
    for (int i = 0; i < kKeys; i++) {
      if (!BloomFilterMayMatch(filter, NumberedKey("present-", i))) FAIL("false negative");
    }
    const double rate = FalsePositiveRate(filter, 100000);
    INFO("bits/key " << bits << " rate " << rate);
    // Theory with an optimal k: about 0.6185^bits (1 bit/key: k=1, rate ~ 1 - e^-1 = 63%).
    if (bits == 1) CHECK(rate < 0.70);
    if (bits == 5) CHECK(rate < 0.12);
    if (bits == 20) CHECK(rate < 0.001);
  }
}

TEST_CASE("bloom filter: empty and tiny filters", "[bloom]") {
  BloomFilterBuilder builder(10);
  const std::string empty = builder.Finish();
  CHECK(empty.size() == 8 + 1);  // the 64-bit minimum plus k
  REQUIRE(ValidateBloomFilter(empty).ok());
  for (int i = 0; i < 1000; i++) CHECK_FALSE(BloomFilterMayMatch(empty, NumberedKey("k", i)));
  CHECK_FALSE(BloomFilterMayMatch(empty, ""));

  builder.AddKey("hello");
  const std::string one = builder.Finish();
  CHECK(one.size() == 8 + 1);
  CHECK(BloomFilterMayMatch(one, "hello"));
  int false_positives = 0;
  for (int i = 0; i < 1000; i++) false_positives += BloomFilterMayMatch(one, NumberedKey("k", i));
  CHECK(false_positives < 50);  // 7 of 64 bits set: ~1e-7 per probe set, allow slack

  builder.Reset();
  builder.AddKey("");  // the empty key is a key like any other
  CHECK(BloomFilterMayMatch(builder.Finish(), ""));

  // Every small size: all keys found.
  for (int n = 1; n <= 300; n += 7) {
    BloomFilterBuilder b(10);
    for (int i = 0; i < n; i++) b.AddKey(NumberedKey("small", i));
    const std::string f = b.Finish();
    for (int i = 0; i < n; i++) REQUIRE(BloomFilterMayMatch(f, NumberedKey("small", i)));
  }
}

TEST_CASE("bloom filter: AddHash is AddKey of the key's Hash64", "[bloom]") {
  BloomFilterBuilder by_key(10), by_hash(10);
  for (int i = 0; i < 500; i++) {
    by_key.AddKey(NumberedKey("x", i));
    by_hash.AddHash(Hash64(NumberedKey("x", i)));
  }
  CHECK(by_key.Finish() == by_hash.Finish());
  CHECK(BloomFilterMayMatchHash(by_key.Finish(), Hash64(NumberedKey("x", 3))));
}

TEST_CASE("bloom filter: probe count", "[bloom]") {
  CHECK(BloomNumProbes(1) == 1);
  CHECK(BloomNumProbes(2) == 1);
  CHECK(BloomNumProbes(3) == 2);
  CHECK(BloomNumProbes(10) == 7);
  CHECK(BloomNumProbes(16) == 11);
  CHECK(BloomNumProbes(43) == 30);
  CHECK(BloomNumProbes(100) == 30);
}

TEST_CASE("bloom filter: malformed filters match everything and fail validation", "[bloom]") {
  for (const std::string& bad : {std::string(), std::string("x"), std::string(8, '\0') + '\0',
                                 std::string(8, '\0') + '\x1f', std::string(8, '\0') + '\xff'}) {
    CHECK(BloomFilterMayMatch(bad, "anything"));
    CHECK(ValidateBloomFilter(bad).IsCorruption());
  }
  CHECK(ValidateBloomFilter(std::string(8, '\0') + '\x1e').ok());
}

}  // namespace keyva
