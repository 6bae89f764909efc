#include "engine/kv_cache.hpp"

#include <fmt/format.h>

#include "engine/error.hpp"

namespace engine {

KvCache::KvCache(std::int64_t layers, KvRowDims dims, std::int64_t block_size, std::int64_t num_blocks)
    : layers_(layers), dims_(dims), block_size_(block_size) {
  if (layers < 1 || dims.k < 1 || dims.v < 0 || block_size < 1 || num_blocks < 1)
    throw EngineError("kv cache", "size",
                      fmt::format("layers {}, K row {}, block_size {} and blocks {} must all be positive (V row {} at "
                                  "least 0)",
                                  layers, dims.k, block_size, num_blocks, dims.v));
  const auto positions = std::size_t(num_blocks * layers * block_size);
  k_ = Buffer<float>(positions * std::size_t(dims.k));
  if (dims.v > 0) v_ = Buffer<float>(positions * std::size_t(dims.v));
  for (std::int64_t b = num_blocks - 1; b >= 0; --b) free_.push_back(b);  // block 0 handed out first
}

KvCache KvCache::contiguous(std::int64_t layers, KvRowDims dims, std::int64_t sequences, std::int64_t capacity) {
  return KvCache(layers, dims, capacity, sequences);
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

std::size_t KvCache::offset(std::int64_t block, std::int64_t layer, std::int64_t pos_in_block, std::int64_t width) const {
  return std::size_t(((block * layers_ + layer) * block_size_ + pos_in_block) * width);
}

float* KvCache::k_row(std::int64_t seq, std::int64_t layer, std::int64_t pos) {
  const std::int64_t block = tables_[std::size_t(seq)][std::size_t(pos / block_size_)];
  return k_.data() + offset(block, layer, pos % block_size_, dims_.k);
}

float* KvCache::v_row(std::int64_t seq, std::int64_t layer, std::int64_t pos) {
  const std::int64_t block = tables_[std::size_t(seq)][std::size_t(pos / block_size_)];
  return dims_.v > 0 ? v_.data() + offset(block, layer, pos % block_size_, dims_.v) : nullptr;
}

void KvCache::runs(std::int64_t seq, std::int64_t layer, std::int64_t length, std::vector<KvRun>& out) const {
  out.clear();
  const auto& table = tables_[std::size_t(seq)];
  for (std::int64_t start = 0, i = 0; start < length; start += block_size_, ++i) {
    const std::int64_t block = table[std::size_t(i)];
    const float* v = dims_.v > 0 ? v_.data() + offset(block, layer, 0, dims_.v) : nullptr;
    out.push_back({k_.data() + offset(block, layer, 0, dims_.k), v, std::min(block_size_, length - start)});
  }
}

}  // namespace engine
