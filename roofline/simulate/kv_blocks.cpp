#include "roofline/simulate/kv_blocks.hpp"

#include <stdexcept>

namespace roofline::sim {

KvCache::KvCache(std::int64_t total_blocks, std::int64_t block_size, std::size_t prefixes)
    : total_(total_blocks), block_size_(block_size), free_(total_blocks), entries_(prefixes) {}

bool KvCache::allocate(std::int64_t n) {
  if (n > available()) return false;
  while (free_ < n) {  // evict the least recently used cached prefix
    Entry& e = entries_[std::size_t(lru_.front())];
    lru_.pop_front();
    e.cached = false;
    evictable_ -= e.blocks;
    free_ += e.blocks;
    ++evictions_;
  }
  free_ -= n;
  return true;
}

void KvCache::release(std::int64_t n) {
  free_ += n;
  if (free_ > total_) throw std::logic_error("KvCache: more blocks released than allocated");
}

void KvCache::acquire(std::int32_t prefix) {
  Entry& e = entries_[std::size_t(prefix)];
  if (!e.cached) throw std::logic_error("KvCache: acquiring a prefix that is not cached");
  if (e.users++ == 0) {
    lru_.erase(e.lru);
    evictable_ -= e.blocks;
  }
}

void KvCache::release_prefix(std::int32_t prefix) {
  Entry& e = entries_[std::size_t(prefix)];
  if (--e.users == 0) {
    e.lru = lru_.insert(lru_.end(), prefix);
    evictable_ += e.blocks;
  }
}

void KvCache::insert(std::int32_t prefix, std::int64_t blocks) {
  Entry& e = entries_[std::size_t(prefix)];
  if (e.cached) throw std::logic_error("KvCache: prefix cached twice");
  e.blocks = blocks;
  e.users = 1;
  e.cached = true;
}

}  // namespace roofline::sim
