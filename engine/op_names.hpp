// The names under which the engine's kernels are timed. They are the contract with opmodel's op
// vocabulary: engine/ keeps its own copy (it knows nothing of opmodel), and tests/ fails if they drift.
#pragma once

#include <array>
#include <string_view>

namespace engine::op {

inline constexpr std::string_view embed = "embed";
inline constexpr std::string_view attn_norm = "attn_norm";
inline constexpr std::string_view q_proj = "q_proj";
inline constexpr std::string_view k_proj = "k_proj";
inline constexpr std::string_view v_proj = "v_proj";
inline constexpr std::string_view q_norm = "q_norm";  // Qwen3
inline constexpr std::string_view k_norm = "k_norm";  // Qwen3
inline constexpr std::string_view q_a_proj = "q_a_proj";    // MLA (DeepSeek)
inline constexpr std::string_view q_a_norm = "q_a_norm";
inline constexpr std::string_view q_b_proj = "q_b_proj";
inline constexpr std::string_view kv_a_proj = "kv_a_proj";
inline constexpr std::string_view kv_a_norm = "kv_a_norm";  // writes the latent into the cache
inline constexpr std::string_view rope = "rope";
inline constexpr std::string_view kv_b_proj = "kv_b_proj";  // MLA naive: the latent expanded to per-head K and V
inline constexpr std::string_view q_absorb = "q_absorb";    // MLA absorbed: q_nope into the latent
inline constexpr std::string_view o_absorb = "o_absorb";    // MLA absorbed: the latent output back to v_head_dim
inline constexpr std::string_view qk_matmul = "qk_matmul";  // naive attention
inline constexpr std::string_view softmax = "softmax";      // naive attention
inline constexpr std::string_view sv_matmul = "sv_matmul";  // naive attention
inline constexpr std::string_view attention = "attention";  // tiled online-softmax attention
inline constexpr std::string_view local_qk_matmul = "local_qk_matmul";  // sliding layers beside global ones (Gemma 2)
inline constexpr std::string_view local_softmax = "local_softmax";
inline constexpr std::string_view local_sv_matmul = "local_sv_matmul";
inline constexpr std::string_view local_attention = "local_attention";
inline constexpr std::string_view o_proj = "o_proj";
inline constexpr std::string_view post_attn_norm = "post_attn_norm";  // Gemma 2
inline constexpr std::string_view post_mlp_norm = "post_mlp_norm";    // Gemma 2
inline constexpr std::string_view attn_add = "attn_add";
inline constexpr std::string_view mlp_norm = "mlp_norm";
inline constexpr std::string_view add_norm = "add_norm";  // AddNorm::fused: a residual add and the norm after it
inline constexpr std::string_view gate_proj = "gate_proj";
inline constexpr std::string_view up_proj = "up_proj";
inline constexpr std::string_view act_mul = "act_mul";
inline constexpr std::string_view down_proj = "down_proj";
inline constexpr std::string_view router = "router";  // MoE: logits, softmax, top-k
inline constexpr std::string_view expert_gate_proj = "expert_gate_proj";  // with the gather of its rows
inline constexpr std::string_view expert_up_proj = "expert_up_proj";
inline constexpr std::string_view expert_act_mul = "expert_act_mul";
inline constexpr std::string_view expert_down_proj = "expert_down_proj";  // with the weighted combine
inline constexpr std::string_view shared_gate = "shared_gate";  // Qwen2-MoE: sigmoid(x . w_g)
inline constexpr std::string_view shared_gate_proj = "shared_gate_proj";
inline constexpr std::string_view shared_up_proj = "shared_up_proj";
inline constexpr std::string_view shared_act_mul = "shared_act_mul";
inline constexpr std::string_view shared_down_proj = "shared_down_proj";  // scaled by the gate, added
inline constexpr std::string_view mlp_add = "mlp_add";
inline constexpr std::string_view final_norm = "final_norm";
inline constexpr std::string_view lm_head = "lm_head";

// Every name the engine times, in execution order.
inline constexpr std::array<std::string_view, 47> kTimed = {
    embed,          attn_norm,      q_proj,           k_proj,      v_proj,           q_norm,         k_norm,
    q_a_proj,       q_a_norm,       q_b_proj,         kv_a_proj,   kv_a_norm,        rope,           kv_b_proj,
    q_absorb,       qk_matmul,      softmax,          sv_matmul,   attention,        local_qk_matmul, local_softmax,
    local_sv_matmul, local_attention, o_absorb,       o_proj,      post_attn_norm,   attn_add,
    mlp_norm,       add_norm,       gate_proj,      up_proj,          act_mul,     down_proj,        router,         expert_gate_proj,
    expert_up_proj, expert_act_mul, expert_down_proj, shared_gate, shared_gate_proj, shared_up_proj, shared_act_mul,
    shared_down_proj, post_mlp_norm, mlp_add, final_norm, lm_head};

}  // namespace engine::op
