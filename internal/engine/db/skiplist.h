// SkipList: the sorted set under the memtable, with lock-free readers.
//
// A probabilistic ordered linked structure (Pugh 1990): every node is on level 0, and on each
// higher level with probability 1/kBranching, up to kMaxHeight levels. Search, insert and seek are
// O(log n) expected. Nodes live in an Arena and are never freed or unlinked before the whole list
// is destroyed, and keys are never modified after insertion; there is no delete.
//
// Thread safety (as in LevelDB's db/skiplist.h):
// - Writes (Insert) require external synchronization: one writer at a time.
// - Reads (Contains, Iterator) need no lock and may run concurrently with the writer and with each
//   other. The only guarantee readers need is that the SkipList outlives them.
// Why readers are safe: a node is fully built (key and its own next pointers) before it is
// published, and it is published by release-stores of the predecessors' next pointers, which
// readers load with acquire. So a reader that reaches a node sees its key and links initialized.
// A reader may or may not see a node inserted while it runs, and may see it on some levels but not
// on others; either way it sees a correctly ordered list. max_height_ is read relaxed: a reader
// that sees the new height before the new head links finds nullptr there and simply drops a level.
//
// Key is a small trivially copyable, trivially destructible value (the memtable uses a pointer to
// an arena-encoded entry). Comparator is a copyable callable: int operator()(const Key& a,
// const Key& b) const returning <0, 0 or >0.
#pragma once

#include <atomic>
#include <cassert>
#include <cstdint>
#include <new>
#include <type_traits>

#include "internal/engine/util/arena.h"

namespace keyva {

template <typename Key, class Comparator>
class SkipList {
 private:
  struct Node;

 public:
  static constexpr int kMaxHeight = 12;
  static constexpr uint32_t kBranching = 4;

  // Where a just-inserted key landed: its neighbours in sort order at that moment.
  struct Neighbors {
    const Key* before = nullptr;  // the greatest key less than it; nullptr when it is the first
    const Key* after = nullptr;   // the smallest key greater than it; nullptr when it is the last
  };

  // Nodes are allocated in *arena, which must outlive the list.
  SkipList(Comparator cmp, Arena* arena);
  SkipList(const SkipList&) = delete;
  SkipList& operator=(const SkipList&) = delete;

  // Inserts key and returns its neighbours (pointers into the list, valid as long as it is).
  // REQUIRES: nothing equal to key is in the list; external synchronization with other writers.
  Neighbors Insert(const Key& key);

  // True when an entry equal to key is in the list.
  bool Contains(const Key& key) const;

  // A forward cursor over the list. Starts invalid; position it with Seek or SeekToFirst.
  class Iterator {
   public:
    explicit Iterator(const SkipList* list) : list_(list), node_(nullptr) {}

    bool Valid() const { return node_ != nullptr; }
    // REQUIRES: Valid().
    const Key& key() const {
      assert(Valid());
      return node_->key;
    }
    // REQUIRES: Valid().
    void Next() {
      assert(Valid());
      node_ = node_->Next(0);
    }
    // Positions at the first entry >= target (invalid when there is none).
    void Seek(const Key& target) { node_ = list_->FindGreaterOrEqual(target, nullptr); }
    void SeekToFirst() { node_ = list_->head_->Next(0); }

   private:
    const SkipList* list_;
    Node* node_;
  };

 private:
  static_assert(std::is_trivially_destructible_v<Key>, "nodes are never destroyed");

  Node* NewNode(const Key& key, int height);
  int RandomHeight();
  int GetMaxHeight() const { return max_height_.load(std::memory_order_relaxed); }
  bool KeyIsAfterNode(const Key& key, const Node* n) const {
    return n != nullptr && compare_(n->key, key) < 0;
  }
  // The first node >= key, or nullptr. When prev is not null, fills prev[level] with the last
  // node < key on every level below GetMaxHeight().
  Node* FindGreaterOrEqual(const Key& key, Node** prev) const;

  Comparator const compare_;
  Arena* const arena_;
  Node* const head_;
  // Height of the tallest node. Written only by the writer; read racily (relaxed) by readers.
  std::atomic<int> max_height_;
  // Writer-only state of the height generator (a 64-bit LCG; fixed seed: reproducible shapes).
  uint64_t rnd_;
};

// A node is its key followed in memory by `height` atomic next pointers (allocated together).
template <typename Key, class Comparator>
struct alignas(alignof(std::atomic<void*>)) SkipList<Key, Comparator>::Node {
  explicit Node(const Key& k) : key(k) {}

  Key const key;

  // Acquire load: a reader sees the returned node fully initialized.
  Node* Next(int n) { return Link(n)->load(std::memory_order_acquire); }
  // Release store: publishes x (and everything written to it before) to readers.
  void SetNext(int n, Node* x) { Link(n)->store(x, std::memory_order_release); }
  // For the writer only, where no ordering is needed (the node is not yet published).
  Node* NoBarrierNext(int n) { return Link(n)->load(std::memory_order_relaxed); }
  void NoBarrierSetNext(int n, Node* x) { Link(n)->store(x, std::memory_order_relaxed); }

  std::atomic<Node*>* Link(int n) {
    char* links = reinterpret_cast<char*>(this) + sizeof(Node);
    return std::launder(reinterpret_cast<std::atomic<Node*>*>(links)) + n;
  }
};

template <typename Key, class Comparator>
SkipList<Key, Comparator>::SkipList(Comparator cmp, Arena* arena)
    : compare_(cmp),
      arena_(arena),
      head_(NewNode(Key{}, kMaxHeight)),
      max_height_(1),
      rnd_(0xdeadbeefULL) {}

template <typename Key, class Comparator>
typename SkipList<Key, Comparator>::Node* SkipList<Key, Comparator>::NewNode(const Key& key,
                                                                             int height) {
  static_assert(alignof(Node) <= Arena::kAlign, "arena alignment is too weak for nodes");
  static_assert(sizeof(Node) % alignof(std::atomic<Node*>) == 0, "links would be misaligned");
  char* mem = arena_->AllocateAligned(sizeof(Node) + sizeof(std::atomic<Node*>) * height);
  Node* node = new (mem) Node(key);
  char* links = mem + sizeof(Node);
  for (int i = 0; i < height; i++) {
    new (links + i * sizeof(std::atomic<Node*>)) std::atomic<Node*>(nullptr);
  }
  return node;
}

template <typename Key, class Comparator>
int SkipList<Key, Comparator>::RandomHeight() {
  int height = 1;
  while (height < kMaxHeight) {
    rnd_ = rnd_ * 6364136223846793005ULL + 1442695040888963407ULL;
    // The high bits of an LCG are the good ones.
    if (static_cast<uint32_t>(rnd_ >> 33) % kBranching != 0) break;
    height++;
  }
  return height;
}

template <typename Key, class Comparator>
typename SkipList<Key, Comparator>::Node* SkipList<Key, Comparator>::FindGreaterOrEqual(
    const Key& key, Node** prev) const {
  Node* x = head_;
  int level = GetMaxHeight() - 1;
  // The node at which the search last went down a level: key is not after it. When the level
  // below leads to the same node, that is known without comparing again (as in RocksDB).
  const Node* last_bigger = nullptr;
  while (true) {
    Node* next = x->Next(level);
    // The node after next on this level is where the search goes if it moves right: start
    // fetching it while key is compared with next (the search is bound by memory latency).
    if (next != nullptr) __builtin_prefetch(next->NoBarrierNext(level));
    if (next != last_bigger && KeyIsAfterNode(key, next)) {
      x = next;  // keep searching on this level
    } else {
      if (prev != nullptr) prev[level] = x;
      if (level == 0) return next;
      last_bigger = next;
      level--;
    }
  }
}

template <typename Key, class Comparator>
typename SkipList<Key, Comparator>::Neighbors SkipList<Key, Comparator>::Insert(const Key& key) {
  Node* prev[kMaxHeight];
  Node* after = FindGreaterOrEqual(key, prev);
  assert(after == nullptr || compare_(key, after->key) != 0);  // no duplicates

  int height = RandomHeight();
  if (height > GetMaxHeight()) {
    for (int i = GetMaxHeight(); i < height; i++) prev[i] = head_;
    // Readers that see the new height early find nullptr in head_'s new levels and move down;
    // readers that see the old height just do not use the new levels yet. Relaxed suffices.
    max_height_.store(height, std::memory_order_relaxed);
  }

  Node* x = NewNode(key, height);
  for (int i = 0; i < height; i++) {
    // x is unpublished: its own links need no barrier. The store into prev[i] publishes it.
    x->NoBarrierSetNext(i, prev[i]->NoBarrierNext(i));
    prev[i]->SetNext(i, x);
  }

  Neighbors result;
  if (prev[0] != head_) result.before = &prev[0]->key;
  if (after != nullptr) result.after = &after->key;
  return result;
}

template <typename Key, class Comparator>
bool SkipList<Key, Comparator>::Contains(const Key& key) const {
  Node* x = FindGreaterOrEqual(key, nullptr);
  return x != nullptr && compare_(key, x->key) == 0;
}

}  // namespace keyva
