// The merge loop both tokenizers share (BPE, SentencePiece), as llama.cpp runs it: symbols of
// one string, linked left to right; the adjacent pair that scores best is merged, leftmost on
// ties, and its new neighbours are scored again, until no adjacent pair scores at all. Only
// what a pair scores differs between the two: a merge rank (BPE) or a token's score (SPM).
#pragma once

#include <cstddef>
#include <optional>
#include <queue>
#include <vector>

namespace modelswarm::infer {

struct MergeSymbol {
  int prev = -1, next = -1;
  size_t offset = 0, len = 0;  // into the string; len 0 once merged into its left neighbour
};

// Merges `sym` (given in order; prev/next are set here) in place. score(left, right) returns
// the pair's priority, higher merging first, or nullopt when the pair never merges. Afterwards
// the surviving symbols are those with len > 0, from sym[0] along next.
template <class ScoreFn>
void merge_pairs(std::vector<MergeSymbol>& sym, ScoreFn&& score) {
  if (sym.empty()) return;
  for (size_t i = 0; i < sym.size(); ++i) {
    sym[i].prev = static_cast<int>(i) - 1;
    sym[i].next = i + 1 < sym.size() ? static_cast<int>(i) + 1 : -1;
  }
  struct Pair {
    int left, right;
    double priority;
    size_t len;  // of the merged text, to detect entries made stale by another merge
    bool operator<(const Pair& o) const {  // priority_queue pops the greatest
      return priority < o.priority || (priority == o.priority && left > o.left);
    }
  };
  std::priority_queue<Pair> queue;
  auto try_add = [&](int l, int r) {
    if (l < 0 || r < 0) return;
    std::optional<double> p = score(sym[l], sym[r]);
    if (p) queue.push({l, r, *p, sym[l].len + sym[r].len});
  };
  for (size_t i = 1; i < sym.size(); ++i) try_add(static_cast<int>(i) - 1, static_cast<int>(i));

  while (!queue.empty()) {
    Pair b = queue.top();
    queue.pop();
    MergeSymbol& l = sym[b.left];
    MergeSymbol& r = sym[b.right];
    if (l.len == 0 || r.len == 0 || l.next != b.right || l.len + r.len != b.len) continue;
    l.len += r.len;
    r.len = 0;
    l.next = r.next;
    if (r.next >= 0) sym[r.next].prev = b.left;
    try_add(l.prev, b.left);
    try_add(b.left, l.next);
  }
}

}  // namespace modelswarm::infer
