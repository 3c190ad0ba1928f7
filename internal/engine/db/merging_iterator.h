// MergingIterator: the union of several sorted internal-key iterators, in internal-key order.
//
// A binary min-heap over the children's current keys: Next advances the smallest child and sifts
// it down, so each step costs O(log k). Equal internal keys never occur across children (every
// entry has a unique sequence number). The first child error stops the iteration and is reported
// by status().
#pragma once

#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include "internal/engine/iterator.h"

namespace keyva {

std::unique_ptr<Iterator> NewMergingIterator(std::vector<std::unique_ptr<Iterator>> children);

// Iterates the files of one sorted, disjoint level in order, opening each file's iterator only
// when it is reached. open(i) returns the iterator of file i; largest(i) its largest internal key.
std::unique_ptr<Iterator> NewConcatenatingIterator(
    size_t num_files, std::function<std::unique_ptr<Iterator>(size_t)> open,
    std::function<std::string_view(size_t)> largest);

}  // namespace keyva
