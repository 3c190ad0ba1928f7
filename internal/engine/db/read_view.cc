// The published read view, the published sequence and snapshots: how reads on any thread see a
// consistent state while the owner thread writes.
//
// The owner thread changes three things readers depend on: the active memtable (mem_, replaced
// by a freeze or an in-memory rewrite), the frozen memtables (frozen_: one joins at a freeze,
// one leaves when its flush is installed) and the current Version (every MANIFEST edit). After
// each such change it calls PublishView, which builds a new immutable ReadView holding shared
// pointers to all three and swaps it in under view_mu_. Writes themselves do not change the view:
// they add entries to the active memtable the view already points to (its skiplist has lock-free
// readers), and then the owner moves the published sequence (Write with publish on, or Publish).
//
// A reader takes (view, sequence) in one critical section (AcquireView) and then reads without
// any lock: entries above its sequence are skipped, so a batch is seen whole or not at all.
// Why a pair taken together is always enough:
//   - every entry at or below the published sequence went into a memtable the view reaches, or
//     (after a flush or compaction) into SSTs of a Version that was published with it;
//   - versions a reader at that sequence needs are never dropped: LiveSnapshots includes the
//     published sequence, so a memtable rewrite, a flush and a compaction keep the newest version
//     at or below it (and below every registered snapshot); later publications only move it up;
//   - a reader holding an older view keeps that view's memtables and Version alive, and SST files
//     are deleted only when no live Version names them (VersionSet::AddLiveFiles).
//
// Snapshots register the published sequence in snapshots_ (a list, so release is O(1)); they
// may be taken and released on any thread.
#include <algorithm>
#include <iterator>

#include "internal/engine/db/db_impl.h"

namespace keyva {

void DBImpl::PublishView() {
  auto view = std::make_shared<ReadView>();
  view->mem = mem_;
  view->frozen.reserve(frozen_.size());
  for (auto it = frozen_.rbegin(); it != frozen_.rend(); ++it) view->frozen.push_back(it->mem);
  view->version = versions_->current();
  for (const auto& g : frozen_) view->wals.insert(view->wals.end(), g.wals.begin(), g.wals.end());
  view->wals.insert(view->wals.end(), mem_wals_.begin(), mem_wals_.end());
  std::shared_ptr<const ReadView> old;
  {
    std::lock_guard<std::mutex> l(view_mu_);
    old = std::exchange(view_, std::move(view));
  }
  // old (maybe the last reference to a flushed memtable) is released outside the lock.
}

void DBImpl::Publish() {
  const SequenceNumber last = versions_->last_sequence();
  std::lock_guard<std::mutex> l(view_mu_);
  published_sequence_ = last;
  published_sequence_copy_.store(last, std::memory_order_release);
}

SequenceNumber DBImpl::LastSequence() const { return versions_->last_sequence(); }

SequenceNumber DBImpl::PublishedSequence() const {
  return published_sequence_copy_.load(std::memory_order_acquire);
}

DBImpl::ViewAtSequence DBImpl::AcquireView(const ReadOptions& options) const {
  ViewAtSequence v;
  std::lock_guard<std::mutex> l(view_mu_);
  v.view = view_;
  if (options.snapshot != nullptr) {
    v.sequence = options.snapshot->sequence();
  } else if (options.read_unpublished) {
    v.sequence = versions_->last_sequence();  // owner thread: the only writer of it
  } else {
    v.sequence = published_sequence_;
  }
  return v;
}

const Snapshot* DBImpl::GetSnapshot() {
  std::lock_guard<std::mutex> l(view_mu_);
  auto* s = new SnapshotImpl(published_sequence_);
  snapshots_.push_back(s);
  s->pos = std::prev(snapshots_.end());
  return s;
}

void DBImpl::ReleaseSnapshot(const Snapshot* snapshot) {
  auto* s = const_cast<SnapshotImpl*>(static_cast<const SnapshotImpl*>(snapshot));
  {
    std::lock_guard<std::mutex> l(view_mu_);
    snapshots_.erase(s->pos);
  }
  delete s;
}

std::vector<SequenceNumber> DBImpl::LiveSnapshots() const {
  std::vector<SequenceNumber> v;
  {
    std::lock_guard<std::mutex> l(view_mu_);
    for (const SnapshotImpl* s : snapshots_) v.push_back(s->sequence());
    // Readers without a snapshot read at the published sequence: it is a snapshot too. (Once a
    // later write is published, nothing can read at an older sequence without a snapshot.)
    v.push_back(published_sequence_);
  }
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

}  // namespace keyva
