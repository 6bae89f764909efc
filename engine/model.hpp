// Model: the Llama-family forward pass with Hugging Face LlamaForCausalLM semantics (RMSNorm with the
// config's eps, rotate-half RoPE with rope_theta, grouped-query attention, SwiGLU MLP, tied or untied
// embeddings); Qwen2 (q/k/v biases), Mistral (sliding window), Qwen3 (per-head q/k RMSNorm) and the sparse MoE
// MLPs of Mixtral, Qwen2/3-MoE and DeepSeek (a router, each token through its top-k experts, shared experts) on the
// same path; DeepSeek's MLA attention (model_mla.cpp) in place of grouped-query attention. Each kernel call is
// timed into the probe under its op name (op_names.hpp). Ops run unfused, in opmodel's default order, except the
// residual add when AddNorm::fused asks for opmodel's `--fuse add_norm`.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "engine/kernels.hpp"
#include "engine/kv_cache.hpp"
#include "engine/probe.hpp"
#include "engine/weights.hpp"

namespace engine {

enum class AttentionKind {
  naive,  // qk_matmul writes the scores, softmax, then sv_matmul
  tiled,  // one fused kernel ("attention"), online softmax over key tiles
};

// Which form of MLA attention a step runs (DeepSeek): naive expands the latent cache into per-head K and V
// (kv_b_proj) and attends over them; absorbed folds kv_b_proj into the query and the output (q_absorb, o_absorb)
// and attends over the latent itself, one KV head of kv_lora_rank + qk_rope_head_dim. automatic: absorbed when
// every sequence of the step brings one new token (decode), naive otherwise, as serving engines run them.
enum class MlaForm { automatic, naive, absorbed };

// Where the residual adds run: separate (attn_add and mlp_add, each its own kernel) or fused into the RMSNorm after
// them (add_norm: add_rmsnorm, as vLLM's fused_add_rms_norm; opmodel's `--fuse add_norm`). Fused, each layer's
// mlp_norm absorbs attn_add, the next layer's attn_norm (or final_norm) absorbs mlp_add: one small kernel call
// fewer per add, and the sum is not written and read back.
enum class AddNorm { separate, fused };

// One sequence's part of a step: its id in the KV cache and the new tokens it feeds.
struct SequenceStep {
  std::int64_t seq = 0;
  std::span<const std::int32_t> tokens;
};

class Model {
 public:
  Model(const Weights& w, AttentionKind attention, MlaForm mla = MlaForm::automatic,
        AddNorm add_norm = AddNorm::separate);
  const Config& config() const { return w_.config; }
  AttentionKind attention_kind() const { return attention_; }
  MlaForm mla_form() const { return mla_; }
  AddNorm add_norm() const { return add_norm_; }

  // Runs one step over every sequence's new tokens, appending their K and V to the cache, and writes
  // logits[i, vocab] for sequence i's last new token. Throws EngineError for a token outside the
  // vocabulary or a cache without room (nothing is written then).
  void forward(KvCache& cache, std::span<const SequenceStep> step, float* logits, Phase phase, Probe* probe);

 private:
  void ensure_rope(std::int64_t positions);
  // The sparse MoE MLP of one layer: out[T, dim] = sum over each token's k experts of weight x SwiGLU expert(xb),
  // every expert over its own tokens in one linear() call, plus sigmoid(xb . w_g) x the shared expert (Qwen2-MoE). Kernels timed as router, expert_* (`at`: the layer's
  // record, op and rows set per call).
  void moe_mlp(const LayerWeights& lw, const float* xb, float* out, std::int64_t T, KernelRecord at, Probe* probe);
  // MLA attention of layer l over the step: att[T, h dv] from xb[T, dim], the step's latent rows written to the
  // cache at k_rows_ (their positions pos_). Kernels timed under opmodel's MLA op names (`at`: the layer's record).
  void mla_attention(const LayerWeights& lw, std::int64_t l, KvCache& cache, std::span<const SequenceStep> step,
                     const float* xb, float* att, std::int64_t T, KernelRecord at, Probe* probe);
  // Grouped-query attention of layer l: att[T, h hd] from xb[T, dim], the step's K and V rows written to the cache at
  // k_rows_ and v_rows_. Kernels timed as q_proj ... rope and the attention ops (`at`: the layer's record).
  void gqa_attention(const LayerWeights& lw, std::int64_t l, KvCache& cache, std::span<const SequenceStep> step,
                     const float* xb, float* att, std::int64_t T, KernelRecord at, Probe* probe);
  // Runs the attention kernel(s) of the model's AttentionKind over seqs_, timed.
  void attend(const AttentionShape& shape, KernelRecord at, Probe* probe);
  template <class T>
  static T* sized(Buffer<T>& b, std::int64_t n) {  // grows b to n elements, returns its data
    if (std::int64_t(b.size()) < n) b = Buffer<T>(std::size_t(n));
    return b.data();
  }

  const Weights& w_;
  AttentionKind attention_;
  MlaForm mla_;
  AddNorm add_norm_;
  float rope_factor_ = 1;        // yarn's attention factor on cos and sin
  // Sliding layers are timed under opmodel's local_* names when the model also has global layers (Gemma 2); a model
  // whose every layer slides (Mistral) keeps the plain names, as opmodel does.
  bool local_names_ = false;
  std::vector<float> inv_freq_;  // [head_dim / 2]
  Buffer<float> cos_, sin_;      // [positions, head_dim / 2]
  std::int64_t rope_positions_ = 0;
  // Workspace, grown to the largest step seen: x [T, dim] residual stream; xb, xb2 [T, dim]; q, att
  // [T, q_dim]; k [T, kv_dim]; hb, hb2 [T, hidden]; last [B, dim]; scores for naive attention.
  Buffer<float> x_, xb_, xb2_, q_, k_, att_, hb_, hb2_, last_, scores_;
  // MoE: router logits [T, E]; routed rows in expert order: inputs [T k, dim], gate and up [T k, moe_hidden],
  // outputs [T k, dim]; each token's experts and weights [T, k]; per expert offsets [E + 1]. The shared expert:
  // its gate [T], gate and up [T, shared_hidden], output [T, dim].
  Buffer<float> logits_, moe_x_, moe_gate_, moe_up_, moe_y_;
  Buffer<float> shared_g_, shared_gate_, shared_up_, shared_y_;
  std::vector<std::int32_t> route_experts_, route_rows_;
  std::vector<float> route_weights_, row_weights_;
  std::vector<std::int64_t> expert_offsets_;
  // MLA: q_a [T, q_lora]; kv_a's output [T, r + dr]; the absorbed query [T, h (r + dr)] and latent output
  // [T, h r]; one head's gathered rows [T, max(dn, r)]; naive: the latent rows read [keys, r], kv_b's output
  // [keys, h (dn + dv)], per-head K [keys, h (dn + dr)] and V [keys, h dv].
  Buffer<float> mla_qa_, mla_ckv_, mla_q_, mla_out_, mla_rows_, mla_lat_, mla_kvb_, mla_k_, mla_v_;
  std::vector<std::int64_t> pos_;
  std::vector<std::int32_t> tokens_;  // the step's new tokens, sequence after sequence
  std::vector<float*> k_rows_, v_rows_;
  std::vector<std::vector<KvRun>> runs_;
  std::vector<AttentionSeq> seqs_;
};

}  // namespace engine
