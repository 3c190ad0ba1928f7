#include "internal/engine/db/merging_iterator.h"

#include <algorithm>

#include "internal/engine/db/dbformat.h"

namespace keyva {
namespace {

class MergingIterator final : public Iterator {
 public:
  explicit MergingIterator(std::vector<std::unique_ptr<Iterator>> children)
      : children_(std::move(children)) {}

  bool Valid() const override { return status_.ok() && !heap_.empty(); }

  void SeekToFirst() override {
    for (auto& c : children_) c->SeekToFirst();
    Rebuild();
  }

  void Seek(std::string_view target) override {
    for (auto& c : children_) c->Seek(target);
    Rebuild();
  }

  void Next() override {
    Iterator* top = heap_.front();
    top->Next();
    if (!top->Valid()) {
      if (!top->status().ok()) {
        status_ = top->status();
        return;
      }
      std::pop_heap(heap_.begin(), heap_.end(), Greater());
      heap_.pop_back();
    } else {
      // Restore the heap property from the root down.
      std::pop_heap(heap_.begin(), heap_.end(), Greater());
      std::push_heap(heap_.begin(), heap_.end(), Greater());
    }
  }

  std::string_view key() const override { return heap_.front()->key(); }
  std::string_view value() const override { return heap_.front()->value(); }
  Status status() const override { return status_; }

 private:
  struct Greater {
    bool operator()(const Iterator* a, const Iterator* b) const {
      return CompareInternalKeys(a->key(), b->key()) > 0;
    }
  };

  void Rebuild() {
    heap_.clear();
    status_ = Status::OK();
    for (auto& c : children_) {
      if (c->Valid()) {
        heap_.push_back(c.get());
      } else if (!c->status().ok()) {
        status_ = c->status();
        heap_.clear();
        return;
      }
    }
    std::make_heap(heap_.begin(), heap_.end(), Greater());
  }

  std::vector<std::unique_ptr<Iterator>> children_;
  std::vector<Iterator*> heap_;
  Status status_;
};

class ConcatenatingIterator final : public Iterator {
 public:
  ConcatenatingIterator(size_t n, std::function<std::unique_ptr<Iterator>(size_t)> open,
                        std::function<std::string_view(size_t)> largest)
      : n_(n), open_(std::move(open)), largest_(std::move(largest)) {}

  bool Valid() const override { return current_ && current_->Valid(); }

  void SeekToFirst() override {
    status_ = Status::OK();
    OpenFile(0);
    if (current_) current_->SeekToFirst();
    SkipEmptyFiles();
  }

  void Seek(std::string_view target) override {
    size_t lo = 0, hi = n_;
    while (lo < hi) {  // first file whose largest key >= target
      size_t mid = (lo + hi) / 2;
      if (CompareInternalKeys(largest_(mid), target) < 0) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    status_ = Status::OK();
    OpenFile(lo);
    if (current_) current_->Seek(target);
    SkipEmptyFiles();
  }

  void Next() override {
    current_->Next();
    SkipEmptyFiles();
  }

  std::string_view key() const override { return current_->key(); }
  std::string_view value() const override { return current_->value(); }
  Status status() const override {
    if (!status_.ok()) return status_;
    return current_ ? current_->status() : Status::OK();
  }

 private:
  void OpenFile(size_t i) {
    index_ = i;
    current_ = i < n_ ? open_(i) : nullptr;
  }

  void SkipEmptyFiles() {
    while (current_ && !current_->Valid()) {
      if (!current_->status().ok()) {
        status_ = current_->status();
        current_.reset();
        return;
      }
      OpenFile(index_ + 1);
      if (current_) current_->SeekToFirst();
    }
  }

  size_t n_;
  std::function<std::unique_ptr<Iterator>(size_t)> open_;
  std::function<std::string_view(size_t)> largest_;
  size_t index_ = 0;
  std::unique_ptr<Iterator> current_;
  Status status_;
};

}  // namespace

std::unique_ptr<Iterator> NewMergingIterator(std::vector<std::unique_ptr<Iterator>> children) {
  if (children.size() == 1) return std::move(children[0]);
  return std::make_unique<MergingIterator>(std::move(children));
}

std::unique_ptr<Iterator> NewConcatenatingIterator(
    size_t num_files, std::function<std::unique_ptr<Iterator>(size_t)> open,
    std::function<std::string_view(size_t)> largest) {
  return std::make_unique<ConcatenatingIterator>(num_files, std::move(open), std::move(largest));
}

}  // namespace keyva
