#include "engine/kv_cache.hpp"

#include <fmt/format.h>

#include "engine/error.hpp"

namespace engine {

KvCache::KvCache(std::int64_t layers, std::int64_t kv_dim, std::int64_t block_size, std::int64_t num_blocks)
    : layers_(layers), kv_dim_(kv_dim), block_size_(block_size) {
  if (layers < 1 || kv_dim < 1 || block_size < 1 || num_blocks < 1)
    throw EngineError("kv cache", "size",
                      fmt::format("layers {}, kv_dim {}, block_size {} and blocks {} must all be positive", layers,
                                  kv_dim, block_size, num_blocks));
  const auto elements = std::size_t(num_blocks * layers * block_size * kv_dim);
  k_ = Buffer<float>(elements);
  v_ = Buffer<float>(elements);
  for (std::int64_t b = num_blocks - 1; b >= 0; --b) free_.push_back(b);  // block 0 handed out first
}

KvCache KvCache::contiguous(std::int64_t layers, std::int64_t kv_dim, std::int64_t sequences, std::int64_t capacity) {
  return KvCache(layers, kv_dim, capacity, sequences);
}

std::int64_t KvCache::add_sequence() {
  tables_.emplace_back();
  length_.push_back(0);
  return std::int64_t(tables_.size()) - 1;
}

void KvCache::release(std::int64_t seq) {
  for (std::int64_t b : tables_[std::size_t(seq)]) free_.push_back(b);
  tables_[std::size_t(seq)].clear();
  length_[std::size_t(seq)] = 0;
}

void KvCache::reserve(std::int64_t seq, std::int64_t length) {
  auto& table = tables_[std::size_t(seq)];
  const std::int64_t need = (length + block_size_ - 1) / block_size_;
  if (need - std::int64_t(table.size()) > std::int64_t(free_.size()))
    throw EngineError("kv cache", "blocks",
                      fmt::format("sequence {} needs {} blocks of {} positions for {} tokens, {} free", seq, need,
                                  block_size_, length, free_.size() + table.size()));
  while (std::int64_t(table.size()) < need) {
    table.push_back(free_.back());
    free_.pop_back();
  }
}

void KvCache::set_length(std::int64_t seq, std::int64_t length) {
  if (length > std::int64_t(tables_[std::size_t(seq)].size()) * block_size_)
    throw EngineError("kv cache", "length", fmt::format("{} exceeds the blocks reserved", length));
  length_[std::size_t(seq)] = length;
}

std::size_t KvCache::offset(std::int64_t block, std::int64_t layer, std::int64_t pos_in_block) const {
  return std::size_t(((block * layers_ + layer) * block_size_ + pos_in_block) * kv_dim_);
}

float* KvCache::k_row(std::int64_t seq, std::int64_t layer, std::int64_t pos) {
  const std::int64_t block = tables_[std::size_t(seq)][std::size_t(pos / block_size_)];
  return k_.data() + offset(block, layer, pos % block_size_);
}

float* KvCache::v_row(std::int64_t seq, std::int64_t layer, std::int64_t pos) {
  const std::int64_t block = tables_[std::size_t(seq)][std::size_t(pos / block_size_)];
  return v_.data() + offset(block, layer, pos % block_size_);
}

void KvCache::runs(std::int64_t seq, std::int64_t layer, std::int64_t length, std::vector<KvRun>& out) const {
  out.clear();
  const auto& table = tables_[std::size_t(seq)];
  for (std::int64_t start = 0, i = 0; start < length; start += block_size_, ++i) {
    const std::size_t at = offset(table[std::size_t(i)], layer, 0);
    out.push_back({k_.data() + at, v_.data() + at, std::min(block_size_, length - start)});
  }
}

}  // namespace engine
