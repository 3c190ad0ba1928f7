#include "internal/engine/db/retention.h"

#include <algorithm>

#include "internal/engine/value_format.h"

namespace keyva {

RetentionFilter::RetentionFilter(std::vector<SequenceNumber> snapshots, bool bottommost,
                                 int64_t now_us)
    : snapshots_(std::move(snapshots)), bottommost_(bottommost), now_us_(now_us) {
  std::sort(snapshots_.begin(), snapshots_.end());
}

size_t RetentionFilter::StripeOf(SequenceNumber seq) const {
  return std::lower_bound(snapshots_.begin(), snapshots_.end(), seq) - snapshots_.begin();
}

RetentionFilter::Decision RetentionFilter::Decide(const ParsedInternalKey& key,
                                                  std::string_view stored_value) {
  size_t stripe = StripeOf(key.sequence);
  if (has_current_ && key.user_key == current_user_key_) {
    // An older version: needed only if it is the newest one some older snapshot can see.
    if (stripe == last_stripe_) return Decision::kDrop;
  } else {
    current_user_key_.assign(key.user_key);
    has_current_ = true;
  }
  last_stripe_ = stripe;
  bool oldest_stripe = stripe == 0;
  if (key.type == ValueType::kDeletion) {
    return bottommost_ && oldest_stripe ? Decision::kDrop : Decision::kKeep;
  }
  if (now_us_ > 0 && oldest_stripe) {
    int64_t expires = StoredValueExpiry(stored_value);
    if (expires != 0 && expires <= now_us_) {
      return bottommost_ ? Decision::kDrop : Decision::kKeepAsTombstone;
    }
  }
  return Decision::kKeep;
}

}  // namespace keyva
