// LatencyHistogram: per-operation latencies in nanoseconds, kept in log-linear buckets (32 per
// power of two, so a percentile is within ~3% of the true value) in a fixed 16 KiB array, so
// recording a million operations costs no allocation and adds nothing to the measured RSS.
//
// Not thread-safe: one histogram per thread, merged afterwards with Merge().
#pragma once

#include <array>
#include <cstdint>

namespace keyva::bench {

class LatencyHistogram {
 public:
  // Records n operations that took nanos each.
  void Add(uint64_t nanos, uint64_t n = 1);
  void Merge(const LatencyHistogram& other);

  uint64_t Count() const { return count_; }
  double MeanMicros() const { return count_ == 0 ? 0 : static_cast<double>(sum_) / count_ / 1e3; }
  double MaxMicros() const { return static_cast<double>(max_) / 1e3; }
  // The latency (µs) below which a fraction p (0..1) of the operations fall; 0 when empty.
  double PercentileMicros(double p) const;

  static int BucketFor(uint64_t nanos);
  // The smallest and one-past-largest nanosecond values that land in bucket b.
  static uint64_t BucketLow(int b);
  static uint64_t BucketHigh(int b);

 private:
  static constexpr int kLinear = 64;  // values below this get one bucket each
  static constexpr int kSubBits = 5;  // 32 buckets per power of two above it
  static constexpr int kBuckets = kLinear + (64 - 6) * (1 << kSubBits);

  std::array<uint64_t, kBuckets> buckets_{};
  uint64_t count_ = 0;
  uint64_t sum_ = 0;
  uint64_t max_ = 0;
};

}  // namespace keyva::bench
