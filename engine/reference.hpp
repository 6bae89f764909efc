// Reference kernels: the obvious loops, accumulating in double. The test oracle for kernels.hpp: same
// contracts, no blocking, no threads, no SIMD.
#pragma once

#include <cstdint>
#include <span>

#include "engine/kernels.hpp"

namespace engine::reference {

void linear(float* y, const float* x, std::int64_t m, const Linear& w);  // y[m, n], contiguous
void rmsnorm(float* y, const float* x, const float* gamma, std::int64_t rows, std::int64_t d, float eps);
void add(float* y, const float* a, const float* b, std::int64_t n);
void silu_mul(float* y, const float* gate, const float* up, std::int64_t n);
void gelu_tanh_mul(float* y, const float* gate, const float* up, std::int64_t n);  // 0.5 g (1 + tanh(u)) up
void softmax(float* x, std::int64_t rows, std::int64_t n);
// q[t, h*hd] and k[t, g*hd] rotated in place; angle = pos[t] * inv_freq[i] computed in double.
void rope(float* q, float* k, const std::int64_t* pos, std::int64_t tokens, std::int64_t n_heads,
          std::int64_t n_kv_heads, std::int64_t head_dim, const float* inv_freq);
// Causal (and windowed) attention of each sequence, one query at a time, full softmax in double.
void attention(std::span<const AttentionSeq> seqs, const AttentionShape& s);

}  // namespace engine::reference
