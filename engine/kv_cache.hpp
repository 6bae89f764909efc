// KvCache: a paged KV cache for a batch of sequences of different lengths. A pool of fixed-size blocks,
// each holding block_size positions of every layer's K and V rows, position-major ([layer][position]
// [kv_head][head_dim]), and a block table per sequence. The contiguous cache is the special case of one
// block per sequence, as long as the sequence may grow: the same kernels read both.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/buffer.hpp"
#include "engine/kernels.hpp"

namespace engine {

// Floats a position holds per layer: its K row and its V row. MLA caches one latent row (k = kv_lora_rank +
// qk_rope_head_dim) and no V row (v = 0): its values are read from the latent.
struct KvRowDims {
  std::int64_t k = 0, v = 0;
};

class KvCache {
 public:
  // A paged cache of num_blocks blocks of block_size positions.
  KvCache(std::int64_t layers, KvRowDims dims, std::int64_t block_size, std::int64_t num_blocks);
  KvCache(std::int64_t layers, std::int64_t kv_dim, std::int64_t block_size, std::int64_t num_blocks)
      : KvCache(layers, KvRowDims{kv_dim, kv_dim}, block_size, num_blocks) {}
  // A contiguous cache: `sequences` slots of `capacity` positions each.
  static KvCache contiguous(std::int64_t layers, KvRowDims dims, std::int64_t sequences, std::int64_t capacity);

  std::int64_t add_sequence();             // a new, empty sequence; returns its id
  void release(std::int64_t seq);          // frees its blocks
  // Grows the sequence's block table to hold `length` positions; throws EngineError when blocks run out.
  void reserve(std::int64_t seq, std::int64_t length);
  std::int64_t length(std::int64_t seq) const { return length_[std::size_t(seq)]; }
  void set_length(std::int64_t seq, std::int64_t length);  // positions filled (<= reserved)

  float* k_row(std::int64_t seq, std::int64_t layer, std::int64_t pos);  // [dims.k]
  float* v_row(std::int64_t seq, std::int64_t layer, std::int64_t pos);  // [dims.v]; null when dims.v = 0
  // The sequence's first `length` positions at `layer`, one run per block.
  void runs(std::int64_t seq, std::int64_t layer, std::int64_t length, std::vector<KvRun>& out) const;

  std::int64_t block_size() const { return block_size_; }
  std::int64_t free_blocks() const { return std::int64_t(free_.size()); }
  KvRowDims dims() const { return dims_; }
  std::size_t bytes() const { return (k_.size() + v_.size()) * sizeof(float); }

 private:
  // Index of a position's row in k_ (width dims_.k) or v_ (width dims_.v).
  std::size_t offset(std::int64_t block, std::int64_t layer, std::int64_t pos_in_block, std::int64_t width) const;
  std::int64_t layers_;
  KvRowDims dims_;
  std::int64_t block_size_;
  Buffer<float> k_, v_;  // [block][layer][block_size][dims.k], [block][layer][block_size][dims.v]
  std::vector<std::int64_t> free_;                    // free block ids, taken from the back
  std::vector<std::vector<std::int64_t>> tables_;     // block table per sequence
  std::vector<std::int64_t> length_;
};

}  // namespace engine
