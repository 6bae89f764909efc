// The engine's kernels: small free functions, output first, each with a one-line contract. fp32
// activations throughout; weights of the linear layers in f32, bf16 or int8 (see linear.hpp). Kernels use
// all threads of the OpenMP team where the work pays for it. engine/ knows nothing of FLOP counting.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "engine/linear.hpp"

namespace engine {

// Where a kernel writes its output rows: row i at base + i * stride, or at table[i] when a table is given
// (so v_proj and RoPE can write straight into KV-cache slots).
struct RowsOut {
  float* base = nullptr;
  std::int64_t stride = 0;
  float* const* table = nullptr;
  float* row(std::int64_t i) const { return table ? table[i] : base + i * stride; }
};

// ---- linear layers: y[m, n] = x[m, k] W^T + bias --------------------------------------------------------
inline constexpr std::int64_t kGemvMaxRows = 8;  // up to this many rows stream W once per 4-row block
// Dispatches to gemv (m <= kGemvMaxRows) or gemm.
void linear(RowsOut y, const float* x, std::int64_t m, const Linear& w);
// Packed, register-blocked GEMM (BLIS-style loops, 14x32 micro-tile); threads split the outputs n.
void gemm(RowsOut y, const float* x, std::int64_t m, const Linear& w);
// Streams each weight row once for all m rows of x; threads split the outputs n.
void gemv(RowsOut y, const float* x, std::int64_t m, const Linear& w);

// ---- element-wise ---------------------------------------------------------------------------------------
// y[r, :] = x[r, :] / sqrt(mean(x[r, :]^2) + eps) * gamma   (Hugging Face LlamaRMSNorm, fp32)
void rmsnorm(float* y, const float* x, const float* gamma, std::int64_t rows, std::int64_t d, float eps);
// x[r, :] += delta[r, :], then y[r, :] = RMSNorm of the new x[r, :] (the residual add fused into the next norm,
// vLLM's fused_add_rms_norm; the same sums and norms as add then rmsnorm, in one pass over x). y must not alias x.
void add_rmsnorm(float* y, float* x, const float* delta, const float* gamma, std::int64_t rows, std::int64_t d,
                 float eps);
// y.row(r)[:d] = RMSNorm of x[r * x_stride :][:d], rows of a wider buffer (MLA's c_kv inside kv_a_proj's output)
void rmsnorm_strided(RowsOut y, const float* x, std::int64_t x_stride, const float* gamma, std::int64_t rows,
                     std::int64_t d, float eps);
// y = a + b, n elements (y may alias a)
void add(float* y, const float* a, const float* b, std::int64_t n);
// y = silu(gate) * up = gate / (1 + exp(-gate)) * up, n elements (y may alias gate)
void silu_mul(float* y, const float* gate, const float* up, std::int64_t n);
// y = gelu_tanh(gate) * up (Gemma's GeGLU, gelu_pytorch_tanh): gelu_tanh(g) = g/2 (1 + tanh(u)) = g / (1 + e^(-2u)),
// u = sqrt(2/pi) (g + 0.044715 g^3); n elements (y may alias gate)
void gelu_tanh_mul(float* y, const float* gate, const float* up, std::int64_t n);
// x = cap tanh(x / cap), n elements (Gemma 2's final logit soft-cap)
void softcap(float* x, std::int64_t n, float cap);
// x[t, :] = table[tokens[t], :] for t < count
void embed(float* x, const float* table, const std::int32_t* tokens, std::int64_t count, std::int64_t d);

// ---- mixture of experts ---------------------------------------------------------------------------------
// How a router picks each token's k experts and their weights from its E logits (fp32). Mixtral and Qwen2/3-MoE:
// softmax scores, the k largest, renormalized or not. DeepSeek-V2/V3 add: sigmoid scores (V3); the choice made on
// the scores plus a learnt bias (V3's e_score_correction_bias) and only among the top_groups best of `groups` equal
// groups of experts (rated by their best choice score, or the sum of their two best when top2_sum; the other
// experts' choice scores set to 0, as transformers masks them); the weights scaled (routed_scaling_factor).
struct Routing {
  std::int64_t k = 1, groups = 1, top_groups = 1;
  bool sigmoid = false, top2_sum = false, renormalize = false;
  float scale = 1;
  const float* bias = nullptr;  // [E], or null
};
// Routing of `tokens` tokens over E experts: each token's k largest choice scores (ties to the lower expert);
// weights = their scores (not choice scores), divided by their sum (+1e-20) when renormalize, times scale.
// experts, weights: [tokens, k].
void route_top_k(std::int32_t* experts, float* weights, const float* logits, std::int64_t tokens, std::int64_t E,
                 const Routing& r);
// The tokens x k routed rows grouped by expert: expert e's rows are [offsets[e], offsets[e + 1]) of rows (their
// tokens, ascending) and row_weight (their routing weights). offsets: [E + 1]; rows, row_weight: [tokens k].
void group_by_expert(std::int64_t* offsets, std::int32_t* rows, float* row_weight, const std::int32_t* experts,
                     const float* weights, std::int64_t tokens, std::int64_t E, std::int64_t k);
// y[i, :] = x[rows[i], :] for i < n (d columns)
void gather_rows(float* y, const float* x, const std::int32_t* rows, std::int64_t n, std::int64_t d);
// y[rows[i], :] += w[i] * x[i, :] for i < n, in order (the caller zeroes y)
void scatter_add_rows(float* y, const float* x, const std::int32_t* rows, const float* w, std::int64_t n,
                      std::int64_t d);

// ---- rotary embedding -----------------------------------------------------------------------------------
// cos/sin per position and frequency: cos[p * hd/2 + i] = cos(p * inv_freq[i]), likewise sin.
struct RopeTable {
  std::int64_t half = 0;  // hd / 2
  const float* cos = nullptr;
  const float* sin = nullptr;
};
// Rotate-half RoPE (Hugging Face layout: pairs (i, i + hd/2)) of q[t, h*hd] in place and of k[t, g*hd]
// into k_out rows (the KV cache); pos[t] is token t's position.
void rope(float* q, RowsOut k_out, const float* k, const std::int64_t* pos, std::int64_t tokens,
          std::int64_t n_heads, std::int64_t n_kv_heads, const RopeTable& table);

// RoPE of `heads` vectors of 2 * table.half dims per token, in place at x + t * row_stride + head * head_stride:
// interleaved pairs (2i, 2i + 1) (DeepSeek's MLA) or rotate-half pairs (i, i + half), both by angle pos[t] inv_freq[i].
void rope_strided(float* x, std::int64_t row_stride, std::int64_t head_stride, std::int64_t heads,
                  const std::int64_t* pos, std::int64_t tokens, const RopeTable& table, bool interleaved);

// ---- attention ------------------------------------------------------------------------------------------
// The cache of one sequence as runs of consecutive positions (one per KV block; one for a contiguous
// cache). Rows are position-major: row p of a run holds all KV heads, k + p * row_stride + head * hd (values:
// v + p * v_stride() + head * vd()).
struct KvRun {
  const float* k = nullptr;
  const float* v = nullptr;
  std::int64_t count = 0;  // positions in this run
};
// One sequence of a step: q_len new queries at positions start .. start+q_len-1; their keys and values
// are already in the cache, which holds start + q_len positions.
struct AttentionSeq {
  const float* q = nullptr;  // [q_len, h*hd], rotated
  float* out = nullptr;      // [q_len, h*vd]
  std::int64_t q_len = 0;
  std::int64_t start = 0;
  std::span<const KvRun> runs;
};
struct AttentionShape {
  std::int64_t n_heads = 0, n_kv_heads = 0, head_dim = 0;
  std::int64_t row_stride = 0;          // floats between positions in a run (n_kv_heads * head_dim)
  std::optional<std::int64_t> window;   // a query at p sees keys p - window < j <= p
  float scale = 0;                      // 1 / sqrt(head_dim)
  float softcap = 0;                    // > 0: each scaled score becomes softcap tanh(score / softcap) before the
                                        // softmax (Gemma 2's attn_logit_softcapping)
  // Values may be narrower than keys (MLA): vd values a head, KV head g's at v + p * v_row_stride + g * vd. 0 means
  // as the keys (vd = head_dim, the V rows' stride = row_stride). MLA's absorbed form reads its values from the key
  // rows themselves (KvRun.v = KvRun.k): the first vd = kv_lora_rank floats of each latent row.
  std::int64_t v_dim = 0;
  std::int64_t v_row_stride = 0;
  std::int64_t vd() const { return v_dim > 0 ? v_dim : head_dim; }
  std::int64_t v_stride() const { return v_row_stride > 0 ? v_row_stride : row_stride; }
};
// Keys query i (position p = start + i) attends to: [first_key(p), p].
std::int64_t first_key(std::int64_t p, const std::optional<std::int64_t>& window);

// Fused attention, scores never leave the tile: online softmax over key tiles (q_len > 1), or, for a
// single query per sequence, split over positions with a final merge of the partial softmaxes (decode).
void attention(std::span<const AttentionSeq> seqs, const AttentionShape& s);
// Naive attention in three kernels through a score buffer laid out [seq][head][q_len][keys seen by the
// sequence's last query]: qk_scores writes scale * q.k (masked entries not written), softmax_scores turns
// each row into probabilities over its visible keys, sv_product writes out = P V.
std::int64_t score_elements(std::span<const AttentionSeq> seqs, const AttentionShape& s);
void qk_scores(float* scores, std::span<const AttentionSeq> seqs, const AttentionShape& s);
void softmax_scores(float* scores, std::span<const AttentionSeq> seqs, const AttentionShape& s);
void sv_product(std::span<const AttentionSeq> seqs, const float* scores, const AttentionShape& s);

// Numerically stable softmax of each of `rows` rows of n values, in place.
void softmax(float* x, std::int64_t rows, std::int64_t n);

}  // namespace engine
