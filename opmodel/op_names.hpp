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
inline constexpr std::string_view o_proj = "o_proj";
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
inline constexpr std::string_view mlp_add = "mlp_add";
inline constexpr std::string_view final_norm = "final_norm";
inline constexpr std::string_view lm_head = "lm_head";

struct Description {
  std::string_view name;
  std::string_view what;
};

// Every name opmodel can emit, in execution order, with what it does.
inline constexpr std::array<Description, 37> kVocabulary = {{
    {embed, "gather the token embedding rows"},
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
    {o_proj, "output projection h*hd -> d"},
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
    {mlp_add, "residual add after the MLP"},
    {final_norm, "RMSNorm after the last layer"},
    {lm_head, "logits: d -> vocabulary"},
}};

}  // namespace opmodel::op
