// The op-name vocabulary: the contract between opmodel (costs) and engine (timed kernels).
// engine/ keeps its own copy of the names it times; tests/ fails if the two drift.
#pragma once

#include <array>
#include <string_view>

namespace opmodel::op {

inline constexpr std::string_view embed = "embed";
inline constexpr std::string_view attn_norm = "attn_norm";
inline constexpr std::string_view q_proj = "q_proj";
inline constexpr std::string_view k_proj = "k_proj";
inline constexpr std::string_view v_proj = "v_proj";
inline constexpr std::string_view qkv_proj = "qkv_proj";  // --fuse qkv
inline constexpr std::string_view q_norm = "q_norm";      // Qwen3
inline constexpr std::string_view k_norm = "k_norm";      // Qwen3
inline constexpr std::string_view rope = "rope";
inline constexpr std::string_view qk_matmul = "qk_matmul";
inline constexpr std::string_view softmax = "softmax";
inline constexpr std::string_view sv_matmul = "sv_matmul";
inline constexpr std::string_view attention = "attention";  // --attn flash
inline constexpr std::string_view local_qk_matmul = "local_qk_matmul";  // sliding-window or chunked layers
inline constexpr std::string_view local_softmax = "local_softmax";
inline constexpr std::string_view local_sv_matmul = "local_sv_matmul";
inline constexpr std::string_view local_attention = "local_attention";
inline constexpr std::string_view q_a_proj = "q_a_proj";      // MLA
inline constexpr std::string_view q_a_norm = "q_a_norm";
inline constexpr std::string_view q_b_proj = "q_b_proj";
inline constexpr std::string_view kv_a_proj = "kv_a_proj";
inline constexpr std::string_view kv_a_norm = "kv_a_norm";
inline constexpr std::string_view kv_b_proj = "kv_b_proj";    // MLA naive
inline constexpr std::string_view q_absorb = "q_absorb";      // MLA absorbed
inline constexpr std::string_view o_absorb = "o_absorb";      // MLA absorbed
inline constexpr std::string_view attn_gate = "attn_gate";    // Qwen3-Next
inline constexpr std::string_view linear_in_proj = "linear_in_proj";  // linear attention (Gated DeltaNet)
inline constexpr std::string_view linear_conv = "linear_conv";
inline constexpr std::string_view linear_attention = "linear_attention";
inline constexpr std::string_view linear_norm = "linear_norm";
inline constexpr std::string_view linear_out_proj = "linear_out_proj";
inline constexpr std::string_view o_proj = "o_proj";
inline constexpr std::string_view post_attn_norm = "post_attn_norm";  // Gemma
inline constexpr std::string_view attn_add = "attn_add";
inline constexpr std::string_view mlp_norm = "mlp_norm";
inline constexpr std::string_view add_norm = "add_norm";  // --fuse add_norm
inline constexpr std::string_view gate_proj = "gate_proj";
inline constexpr std::string_view up_proj = "up_proj";
inline constexpr std::string_view act_mul = "act_mul";
inline constexpr std::string_view gate_up_act = "gate_up_act";  // --fuse swiglu
inline constexpr std::string_view down_proj = "down_proj";
inline constexpr std::string_view router = "router";
inline constexpr std::string_view expert_gate_proj = "expert_gate_proj";
inline constexpr std::string_view expert_up_proj = "expert_up_proj";
inline constexpr std::string_view expert_act_mul = "expert_act_mul";
inline constexpr std::string_view expert_gate_up_act = "expert_gate_up_act";
inline constexpr std::string_view expert_down_proj = "expert_down_proj";
inline constexpr std::string_view shared_gate_proj = "shared_gate_proj";      // MoE shared expert
inline constexpr std::string_view shared_up_proj = "shared_up_proj";
inline constexpr std::string_view shared_act_mul = "shared_act_mul";
inline constexpr std::string_view shared_gate_up_act = "shared_gate_up_act";  // --fuse swiglu
inline constexpr std::string_view shared_down_proj = "shared_down_proj";
inline constexpr std::string_view shared_gate = "shared_gate";                // Qwen2-MoE's sigmoid gate
inline constexpr std::string_view post_mlp_norm = "post_mlp_norm";  // Gemma
inline constexpr std::string_view mtp_proj = "mtp_proj";            // MTP module
inline constexpr std::string_view mlp_add = "mlp_add";
inline constexpr std::string_view final_norm = "final_norm";
inline constexpr std::string_view lm_head = "lm_head";

struct Description {
  std::string_view name;
  std::string_view what;
};

// Every name opmodel can emit, in execution order, with what it does.
inline constexpr std::array<Description, 58> kVocabulary = {{
    {embed, "gather the token embedding rows"},
    {mtp_proj, "MTP module: norms of the next embedding and the hidden state, eh_proj 2d -> d"},
    {attn_norm, "RMSNorm before attention"},
    {q_proj, "query projection d -> h*hd"},
    {k_proj, "key projection d -> g*hd"},
    {v_proj, "value projection d -> g*hd, written to the KV cache"},
    {qkv_proj, "fused q/k/v projection (--fuse qkv)"},
    {q_norm, "per-head RMSNorm of q (Qwen3)"},
    {k_norm, "per-head RMSNorm of k (Qwen3)"},
    {rope, "rotary embedding of q and k; k written to the KV cache"},
    {qk_matmul, "scores = q k^T over the cached keys (naive attention)"},
    {softmax, "scaled, causal softmax of the scores (naive attention)"},
    {sv_matmul, "out = probabilities x v (naive attention)"},
    {attention, "fused attention, scores on chip (--attn flash)"},
    {local_qk_matmul, "scores over the local window or chunk (naive attention)"},
    {local_softmax, "softmax of the local layers' scores (naive attention)"},
    {local_sv_matmul, "out = probabilities x v over the local window (naive attention)"},
    {local_attention, "fused attention of the sliding-window or chunked layers"},
    {q_a_proj, "MLA query down-projection d -> q_lora_rank"},
    {q_a_norm, "MLA RMSNorm of the query latent"},
    {q_b_proj, "MLA query up-projection -> h*(nope+rope)"},
    {kv_a_proj, "MLA KV down-projection d -> kv_lora_rank + rope"},
    {kv_a_norm, "MLA RMSNorm of the KV latent, written to the cache"},
    {kv_b_proj, "MLA naive: latent -> per-head K (nope) and V for every attended position"},
    {q_absorb, "MLA absorbed: query nope part x W_UK -> latent query per head"},
    {o_absorb, "MLA absorbed: latent output x W_UV -> per-head values"},
    {attn_gate, "sigmoid(gate) * attention output (Qwen3-Next)"},
    {linear_in_proj, "linear attention input projection d -> q, k, v, z, beta, decay"},
    {linear_conv, "linear attention causal depthwise conv and SiLU over q, k, v"},
    {linear_attention, "gated delta rule: the per-head state updated and read per token"},
    {linear_norm, "linear attention gated RMSNorm: norm(o) * SiLU(z)"},
    {linear_out_proj, "linear attention output projection -> d"},
    {o_proj, "output projection h*hd -> d"},
    {post_attn_norm, "RMSNorm after attention (Gemma)"},
    {attn_add, "residual add after attention"},
    {mlp_norm, "RMSNorm before the MLP"},
    {add_norm, "residual add fused into the next RMSNorm (--fuse add_norm)"},
    {gate_proj, "SwiGLU gate projection d -> f"},
    {up_proj, "SwiGLU up projection d -> f"},
    {act_mul, "SiLU(gate) * up"},
    {gate_up_act, "gate, up and SiLU*up in one pass (--fuse swiglu)"},
    {down_proj, "down projection f -> d"},
    {router, "MoE gate: expert logits and softmax"},
    {expert_gate_proj, "MoE experts' gate projections"},
    {expert_up_proj, "MoE experts' up projections"},
    {expert_act_mul, "MoE experts' SiLU(gate) * up"},
    {expert_gate_up_act, "MoE experts' fused gate/up/activation (--fuse swiglu)"},
    {expert_down_proj, "MoE experts' down projections and weighted combine"},
    {shared_gate, "MoE shared expert's gate logit: d -> 1 (Qwen2-MoE)"},
    {shared_gate_proj, "MoE shared expert's gate projection d -> f_s"},
    {shared_up_proj, "MoE shared expert's up projection d -> f_s"},
    {shared_act_mul, "MoE shared expert's SiLU(gate) * up"},
    {shared_gate_up_act, "MoE shared expert's fused gate/up/activation (--fuse swiglu)"},
    {shared_down_proj, "MoE shared expert's down projection, added to the routed experts' output"},
    {post_mlp_norm, "RMSNorm after the MLP (Gemma)"},
    {mlp_add, "residual add after the MLP"},
    {final_norm, "RMSNorm after the last layer"},
    {lm_head, "logits: d -> vocabulary"},
}};

}  // namespace opmodel::op
