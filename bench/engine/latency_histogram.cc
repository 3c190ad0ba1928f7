// LatencyHistogram (see latency_histogram.h).
#include "bench/engine/latency_histogram.h"

#include <algorithm>
#include <bit>

namespace keyva::bench {

int LatencyHistogram::BucketFor(uint64_t nanos) {
  if (nanos < kLinear) return static_cast<int>(nanos);
  int e = 63 - std::countl_zero(nanos);  // >= 6
  int sub = static_cast<int>((nanos >> (e - kSubBits)) & ((1 << kSubBits) - 1));
  return kLinear + (e - 6) * (1 << kSubBits) + sub;
}

uint64_t LatencyHistogram::BucketLow(int b) {
  if (b < kLinear) return static_cast<uint64_t>(b);
  int e = (b - kLinear) / (1 << kSubBits) + 6;
  uint64_t sub = static_cast<uint64_t>((b - kLinear) % (1 << kSubBits));
  return (uint64_t{1} << e) | (sub << (e - kSubBits));
}

uint64_t LatencyHistogram::BucketHigh(int b) {
  if (b < kLinear) return static_cast<uint64_t>(b) + 1;
  int e = (b - kLinear) / (1 << kSubBits) + 6;
  return BucketLow(b) + (uint64_t{1} << (e - kSubBits));
}

void LatencyHistogram::Add(uint64_t nanos, uint64_t n) {
  buckets_[BucketFor(nanos)] += n;
  count_ += n;
  sum_ += nanos * n;
  max_ = std::max(max_, nanos);
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  for (int b = 0; b < kBuckets; ++b) buckets_[b] += other.buckets_[b];
  count_ += other.count_;
  sum_ += other.sum_;
  max_ = std::max(max_, other.max_);
}

double LatencyHistogram::PercentileMicros(double p) const {
  if (count_ == 0) return 0;
  const double threshold = p * static_cast<double>(count_);
  double seen = 0;
  for (int b = 0; b < kBuckets; ++b) {
    if (buckets_[b] == 0) continue;
    double next = seen + static_cast<double>(buckets_[b]);
    if (next >= threshold) {
      // Interpolate linearly inside the bucket.
      double low = static_cast<double>(BucketLow(b));
      double high = static_cast<double>(std::min(BucketHigh(b), max_ + 1));
      double frac = (threshold - seen) / static_cast<double>(buckets_[b]);
      return (low + (high - low) * frac) / 1e3;
    }
    seen = next;
  }
  return MaxMicros();
}

}  // namespace keyva::bench
