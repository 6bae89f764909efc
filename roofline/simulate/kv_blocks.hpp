// The paged KV cache of one replica: blocks of block_size tokens, counted rather than placed (which
// physical block holds what does not change a step's time). Prefix caching: the blocks of a shared prefix
// stay cached after its last user finishes; unused cached blocks are evicted least-recently-used first
// when free blocks run short.
#pragma once

#include <cstdint>
#include <list>
#include <vector>

namespace roofline::sim {

class KvCache {
 public:
  // prefixes: how many distinct prefix ids the workload has (0 when none).
  KvCache(std::int64_t total_blocks, std::int64_t block_size, std::size_t prefixes);

  std::int64_t block_size() const { return block_size_; }
  std::int64_t total() const { return total_; }
  std::int64_t free() const { return free_; }            // held by nothing
  std::int64_t evictable() const { return evictable_; }  // cached prefixes nobody running uses
  std::int64_t available() const { return free_ + evictable_; }
  std::int64_t used() const { return total_ - free_; }   // held by requests or cached
  // Blocks that hold `tokens` tokens: ceil(tokens / block_size).
  std::int64_t blocks_for(std::int64_t tokens) const { return (tokens + block_size_ - 1) / block_size_; }

  // Takes n blocks, evicting cached prefixes (least recently used first) when free ones run short.
  // Returns false, taking nothing, when n > available().
  bool allocate(std::int64_t n);
  void release(std::int64_t n);

  bool cached(std::int32_t prefix) const { return entries_[std::size_t(prefix)].cached; }
  // A request starts using a cached prefix (no longer evictable while it does).
  void acquire(std::int32_t prefix);
  // A user is done with it; at zero users its blocks become the most recently used evictable ones.
  void release_prefix(std::int32_t prefix);
  // `blocks` blocks the caller allocated now hold the prefix: cached, with the caller as its one user.
  void insert(std::int32_t prefix, std::int64_t blocks);
  std::int64_t evictions() const { return evictions_; }  // prefixes evicted so far

 private:
  struct Entry {
    std::int64_t blocks = 0;
    std::int32_t users = 0;
    bool cached = false;
    std::list<std::int32_t>::iterator lru;  // position in lru_ while users == 0
  };
  std::int64_t total_, block_size_, free_, evictable_ = 0, evictions_ = 0;
  std::vector<Entry> entries_;
  std::list<std::int32_t> lru_;  // cached prefixes without users, least recently used first
};

}  // namespace roofline::sim
