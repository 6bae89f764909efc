#!/usr/bin/python3
"""An independent PyTorch reference for the engine: Hugging Face LlamaForCausalLM semantics, written out.

transformers itself is not packaged by Debian and PyPI is out of reach here, so this script restates, in plain
PyTorch (Debian's python3-torch), the forward pass of transformers' modeling_llama.py / modeling_mistral.py /
modeling_qwen2.py / modeling_qwen3.py / modeling_mixtral.py / modeling_qwen2_moe.py / modeling_qwen3_moe.py in
eager mode, as
from_pretrained runs it by default (weights upcast to float32):
  - LlamaRMSNorm: x * rsqrt(mean(x^2) + eps) in float32, then weight * x;
  - LlamaRotaryEmbedding: inv_freq = 1 / theta^(arange(0, d, 2) / d) in float32 (with the "llama3" rope_scaling
    band), angle = position * inv_freq in float32, cat(freqs, freqs), rotate_half layout;
  - attention: repeat_kv for grouped-query attention, softmax(q k^T / sqrt(d) + causal mask) in float32, with
    Mistral's sliding window (key j visible from query i iff i - window < j <= i);
  - LlamaMLP: down(silu(gate(x)) * up(x)); biases as the config asks (Qwen2: q, k, v; Llama and Qwen3:
    attention_bias, Llama: mlp_bias); lm_head tied to embed_tokens when tie_word_embeddings;
  - Qwen3: RMSNorm over each head of q and k (q_norm, k_norm) before RoPE;
  - sparse MoE blocks (MixtralSparseMoeBlock, Qwen2MoeSparseMoeBlock, Qwen3MoeSparseMoeBlock): router logits,
    softmax in float32, top-k, the k weights renormalized to sum 1 (Mixtral always, Qwen2/3-MoE when norm_topk_prob),
    each token through its k experts' gated MLPs, weighted and summed; Qwen2-MoE's shared expert scaled by
    sigmoid(shared_expert_gate(x)) and added; Qwen2/3-MoE's dense layers (mlp_only_layers, decoder_sparse_step);
  - DeepSeek-V2/V3 (modeling_deepseek_v2.py / modeling_deepseek_v3.py): MLA attention, q through q_proj or
    q_a_proj -> q_a_layernorm -> q_b_proj, kv_a_proj_with_mqa -> [c_kv, k_pe], kv_a_layernorm(c_kv) -> kv_b_proj ->
    per-head k_nope and v, RoPE on q_pe and the shared k_pe with the interleaved layout (view(d/2, 2).transpose,
    then rotate_half), scale (nope + rope)^-0.5 times yarn's mscale(factor, mscale_all_dim)^2; yarn RoPE
    (_compute_yarn_parameters: ramp between interpolated and extrapolated frequencies, cos and sin times the
    attention factor); DeepSeekMoE: softmax (V2) or sigmoid (V3) scores, e_score_correction_bias for the choice
    (noaux_tc), group-limited choice (n_group, topk_group; a group rated by its max, or by its two best for
    noaux_tc), weights renormalized (norm_topk_prob) and scaled (routed_scaling_factor; V2 scales only when it
    does not renormalize), shared experts added ungated; dense layers below first_k_dense_replace;
  - Gemma 2 (modeling_gemma2.py): the embedding times sqrt(hidden_size) (the normalizer in the hidden dtype),
    Gemma2RMSNorm x * rsqrt(mean(x^2) + eps) * (1 + w) in float32, post_attention_layernorm after attention and
    pre_feedforward_layernorm / post_feedforward_layernorm around the MLP, GeGLU with gelu(approximate="tanh"),
    scores times query_pre_attn_scalar^-0.5 then soft-capped (x / cap, tanh, * cap) before the mask, sliding
    layers (layer_types, or the even layers) beside global ones, the logits soft-capped; embeddings tied;
  - greedy search with RepetitionPenaltyLogitsProcessor (divide positive logits of seen tokens by the penalty,
    multiply negative ones).
It also writes random checkpoints the way save_pretrained lays them out (safetensors, names as transformers writes
them, sharded with model.safetensors.index.json), without the safetensors package: an 8-byte header length, a
JSON header padded with spaces to 8 bytes, then the tensors in order.

  hf_reference.py make --config config.json --out DIR [--dtype F32|BF16|F16] [--shards N] [--seed S] [--std X]
  hf_reference.py generate --checkpoint DIR --prompt-ids "1 2 3; 4 5" --gen N [--repetition-penalty R]
  hf_reference.py batch --jobs FILE
generate prints JSON: {"tokens": [[...] per prompt], "min_margin": smallest top-1 minus top-2 logit seen}. batch runs
the make and generate commands of FILE, a line each (its output file or '-', then its arguments, tab-separated), in
one process: torch is imported once (scripts/check-hf-parity.sh).
"""
import argparse
import contextlib
import json
import math
import os
import struct
import sys

import torch

DTYPES = {"F32": torch.float32, "BF16": torch.bfloat16, "F16": torch.float16}
INT_VIEW = {torch.float32: torch.int32, torch.bfloat16: torch.int16, torch.float16: torch.int16}


# ---- checkpoint files ------------------------------------------------------------------------------------------

def write_safetensors(path, tensors):
    """tensors: list of (name, torch tensor in its storage dtype), written in that order."""
    header, offset, blobs = {"__metadata__": {"format": "pt"}}, 0, []
    for name, t in tensors:
        code = next(k for k, v in DTYPES.items() if v == t.dtype)
        blob = t.contiguous().view(INT_VIEW[t.dtype]).numpy().tobytes()
        header[name] = {"dtype": code, "shape": list(t.shape), "data_offsets": [offset, offset + len(blob)]}
        offset += len(blob)
        blobs.append(blob)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        raw = bytearray(data[8 + n + begin:8 + n + end])
        dtype = DTYPES[info["dtype"]]
        t = torch.frombuffer(raw, dtype=INT_VIEW[dtype]).view(dtype) if raw else torch.empty(0, dtype=dtype)
        out[name] = t.reshape(info["shape"]).to(torch.float32)  # from_pretrained's default dtype
    return out


def read_checkpoint(directory):
    index = os.path.join(directory, "model.safetensors.index.json")
    if os.path.exists(index):
        with open(index) as f:
            files = sorted(set(json.load(f)["weight_map"].values()))
    else:
        files = ["model.safetensors"]
    tensors = {}
    for name in files:
        tensors.update(read_safetensors(os.path.join(directory, name)))
    return tensors


# ---- the model -------------------------------------------------------------------------------------------------

class Config:
    def __init__(self, j):
        self.model_type = j["model_type"]
        self.dim = j["hidden_size"]
        self.layers = j["num_hidden_layers"]
        self.heads = j["num_attention_heads"]
        self.kv_heads = j.get("num_key_value_heads") or self.heads
        self.head_dim = j.get("head_dim") or self.dim // self.heads
        self.hidden = j["intermediate_size"]
        self.vocab = j["vocab_size"]
        self.eps = j.get("rms_norm_eps", 1e-6)
        self.theta = j.get("rope_theta", 10000.0)
        self.rope_scaling = j.get("rope_scaling")
        self.tied = j.get("tie_word_embeddings", False)
        llama, qwen3 = self.model_type == "llama", self.model_type in ("qwen3", "qwen3_moe")
        self.qkv_bias = self.model_type in ("qwen2", "qwen2_moe") or ((llama or qwen3) and j.get("attention_bias", False))
        self.o_bias = (llama or qwen3) and j.get("attention_bias", False)
        self.mlp_bias = llama and j.get("mlp_bias", False)
        self.window = j.get("sliding_window") if self.model_type in ("mistral", "mixtral") else None
        self.qk_norm = qwen3
        self.gemma2 = self.model_type == "gemma2"
        self.local_layers = set()
        self.attn_softcap = self.final_softcap = None
        self.scaling = 1 / math.sqrt(self.head_dim)
        if self.gemma2:
            self.tied = j.get("tie_word_embeddings", True)
            self.window = j.get("sliding_window")
            types = j.get("layer_types") or ["sliding_attention" if (i + 1) % 2 else "full_attention"
                                             for i in range(self.layers)]
            self.local_layers = {i for i, t in enumerate(types) if t == "sliding_attention"}
            self.attn_softcap = j.get("attn_logit_softcapping")
            self.final_softcap = j.get("final_logit_softcapping")
            self.scaling = j["query_pre_attn_scalar"] ** -0.5
        self.mla = self.model_type in ("deepseek_v2", "deepseek_v3")
        self.max_positions = j.get("max_position_embeddings")
        self.rope_dim = self.head_dim
        if self.mla:
            self.q_lora = j.get("q_lora_rank") or 0
            self.kv_lora, self.nope, self.rope_dim = j["kv_lora_rank"], j["qk_nope_head_dim"], j["qk_rope_head_dim"]
            self.v_head = j["v_head_dim"]
            self.head_dim = self.nope + self.rope_dim
            self.kv_heads = self.heads
            self.interleave = True if self.model_type == "deepseek_v2" else j.get("rope_interleave", True)
        # MoE: experts, k per token, expert width, whether the k weights are renormalized, tensor names.
        self.experts, self.top_k, self.expert_hidden, self.norm_topk, self.moe_prefix = 0, 0, 0, True, ""
        self.shared_hidden = (j.get("shared_expert_intermediate_size") or 0) if self.model_type == "qwen2_moe" else 0
        self.sparse_layers = set()
        if self.model_type == "mixtral":
            self.experts, self.top_k = j["num_local_experts"], j["num_experts_per_tok"]
            self.expert_hidden, self.moe_prefix = self.hidden, "block_sparse_moe."
            self.sparse_layers = set(range(self.layers))
        elif self.model_type in ("qwen2_moe", "qwen3_moe"):
            self.experts, self.top_k = j["num_experts"], j["num_experts_per_tok"]
            self.expert_hidden, self.moe_prefix = j["moe_intermediate_size"], "mlp."
            self.norm_topk = j.get("norm_topk_prob", False)
            step, dense = j.get("decoder_sparse_step", 1), set(j.get("mlp_only_layers") or [])
            self.sparse_layers = {i for i in range(self.layers) if i not in dense and (i + 1) % step == 0}
        elif self.mla and j.get("n_routed_experts"):
            v3 = self.model_type == "deepseek_v3"
            self.experts, self.top_k = j["n_routed_experts"], j["num_experts_per_tok"]
            self.expert_hidden, self.moe_prefix = j["moe_intermediate_size"], "mlp."
            self.shared_hidden = (j.get("n_shared_experts") or 0) * self.expert_hidden
            self.scoring = j.get("scoring_func") or ("sigmoid" if v3 else "softmax")
            self.topk_method = j.get("topk_method") or ("noaux_tc" if v3 else "greedy")
            self.n_group, self.topk_group = j.get("n_group") or 1, j.get("topk_group") or 1
            self.norm_topk = j.get("norm_topk_prob", v3)
            self.routed_scale = j.get("routed_scaling_factor", 1.0)
            first, freq = j.get("first_k_dense_replace") or 0, j.get("moe_layer_freq") or 1
            self.sparse_layers = {i for i in range(first, self.layers) if i % freq == 0}

    def expert_names(self, layer, e):
        """gate, up, down of expert e of a layer, as each family names them."""
        p = f"model.layers.{layer}.{self.moe_prefix}experts.{e}."
        if self.model_type == "mixtral":
            return p + "w1", p + "w3", p + "w2"
        return p + "gate_proj", p + "up_proj", p + "down_proj"


def parameter_shapes(c):
    """Every tensor of the checkpoint, named as transformers names it, with its shape."""
    shapes = [("model.embed_tokens.weight", (c.vocab, c.dim))]
    q, kv = c.heads * c.head_dim, c.kv_heads * c.head_dim
    for i in range(c.layers):
        p = f"model.layers.{i}."
        if c.mla:
            a = p + "self_attn."
            shapes += [(p + "input_layernorm.weight", (c.dim,))]
            if c.q_lora:
                shapes += [(a + "q_a_proj.weight", (c.q_lora, c.dim)), (a + "q_a_layernorm.weight", (c.q_lora,)),
                           (a + "q_b_proj.weight", (q, c.q_lora))]
            else:
                shapes += [(a + "q_proj.weight", (q, c.dim))]
            shapes += [(a + "kv_a_proj_with_mqa.weight", (c.kv_lora + c.rope_dim, c.dim)),
                       (a + "kv_a_layernorm.weight", (c.kv_lora,)),
                       (a + "kv_b_proj.weight", (c.heads * (c.nope + c.v_head), c.kv_lora)),
                       (a + "o_proj.weight", (c.dim, c.heads * c.v_head))]
        else:
            shapes += [(p + "input_layernorm.weight", (c.dim,)),
                       (p + "self_attn.q_proj.weight", (q, c.dim)), (p + "self_attn.k_proj.weight", (kv, c.dim)),
                       (p + "self_attn.v_proj.weight", (kv, c.dim)), (p + "self_attn.o_proj.weight", (c.dim, q))]
        if c.qkv_bias:
            shapes += [(p + "self_attn.q_proj.bias", (q,)), (p + "self_attn.k_proj.bias", (kv,)),
                       (p + "self_attn.v_proj.bias", (kv,))]
        if c.o_bias:
            shapes += [(p + "self_attn.o_proj.bias", (c.dim,))]
        if c.qk_norm:
            shapes += [(p + "self_attn.q_norm.weight", (c.head_dim,)), (p + "self_attn.k_norm.weight", (c.head_dim,))]
        shapes += [(p + "post_attention_layernorm.weight", (c.dim,))]
        if c.gemma2:
            shapes += [(p + "pre_feedforward_layernorm.weight", (c.dim,)),
                       (p + "post_feedforward_layernorm.weight", (c.dim,))]
        if i in c.sparse_layers:
            shapes += [(p + c.moe_prefix + "gate.weight", (c.experts, c.dim))]
            if c.mla and c.topk_method == "noaux_tc":
                shapes += [(p + "mlp.gate.e_score_correction_bias", (c.experts,))]
            for e in range(c.experts):
                gate, up, down = c.expert_names(i, e)
                shapes += [(gate + ".weight", (c.expert_hidden, c.dim)), (up + ".weight", (c.expert_hidden, c.dim)),
                           (down + ".weight", (c.dim, c.expert_hidden))]
            if c.shared_hidden:
                s = p + ("mlp.shared_experts." if c.mla else "mlp.shared_expert.")
                shapes += [(s + "gate_proj.weight", (c.shared_hidden, c.dim)),
                           (s + "up_proj.weight", (c.shared_hidden, c.dim)),
                           (s + "down_proj.weight", (c.dim, c.shared_hidden))]
                if not c.mla:
                    shapes += [(p + "mlp.shared_expert_gate.weight", (1, c.dim))]
            continue
        shapes += [(p + "mlp.gate_proj.weight", (c.hidden, c.dim)), (p + "mlp.up_proj.weight", (c.hidden, c.dim)),
                   (p + "mlp.down_proj.weight", (c.dim, c.hidden))]
        if c.mlp_bias:
            shapes += [(p + "mlp.gate_proj.bias", (c.hidden,)), (p + "mlp.up_proj.bias", (c.hidden,)),
                       (p + "mlp.down_proj.bias", (c.dim,))]
    shapes.append(("model.norm.weight", (c.dim,)))
    if not c.tied:
        shapes.append(("lm_head.weight", (c.vocab, c.dim)))
    return shapes


def yarn_get_mscale(scale, mscale=1.0):
    return 1.0 if scale <= 1 else 0.1 * mscale * math.log(scale) + 1.0


def yarn(c, s):
    """transformers' _compute_yarn_parameters: (inv_freq, attention_factor)."""
    dim, base, factor = c.rope_dim, c.theta, s["factor"]
    original = s.get("original_max_position_embeddings") or c.max_positions
    mscale, mscale_all_dim = s.get("mscale"), s.get("mscale_all_dim")
    if mscale and mscale_all_dim:
        attention_factor = float(yarn_get_mscale(factor, mscale) / yarn_get_mscale(factor, mscale_all_dim))
    else:
        attention_factor = yarn_get_mscale(factor)
    beta_fast, beta_slow = s.get("beta_fast") or 32, s.get("beta_slow") or 1

    def correction_dim(rotations):
        return (dim * math.log(original / (rotations * 2 * math.pi))) / (2 * math.log(base))

    low, high = correction_dim(beta_fast), correction_dim(beta_slow)
    if s.get("truncate", True):
        low, high = math.floor(low), math.ceil(high)
    low, high = max(low, 0), min(high, dim - 1)
    if low == high:
        high += 0.001
    ramp = torch.clamp((torch.arange(dim // 2, dtype=torch.float32) - low) / (high - low), 0, 1)
    pos_freqs = base ** (torch.arange(0, dim, 2, dtype=torch.float) / dim)
    extrapolation, interpolation = 1.0 / pos_freqs, 1.0 / (factor * pos_freqs)
    extrapolation_factor = 1 - ramp
    inv = interpolation * (1 - extrapolation_factor) + extrapolation * extrapolation_factor
    return inv, attention_factor


def inverse_frequencies(c):
    """(inv_freq over the rotated dims, the factor on cos and sin)."""
    s = c.rope_scaling
    if s and s.get("rope_type", s.get("type")) == "yarn":
        return yarn(c, s)
    inv = 1.0 / (c.theta ** (torch.arange(0, c.rope_dim, 2, dtype=torch.int64).float() / c.rope_dim))
    if s and s.get("rope_type", s.get("type")) == "llama3":  # transformers' _compute_llama3_parameters
        factor, low, high = s["factor"], s["low_freq_factor"], s["high_freq_factor"]
        old = s["original_max_position_embeddings"]
        wavelen = 2 * math.pi / inv
        scaled = torch.where(wavelen > old / low, inv / factor, inv)
        smooth = (old / wavelen - low) / (high - low)
        smoothed = (1 - smooth) * scaled / factor + smooth * scaled
        medium = ~(wavelen < old / high) * ~(wavelen > old / low)
        inv = torch.where(medium, smoothed, scaled)
    return inv, 1.0


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def rms_norm(x, weight, eps):
    x = x.to(torch.float32)
    return weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))


def gemma_rms_norm(x, weight, eps):
    """Gemma2RMSNorm: the normed x times (1 + w), in float32."""
    x = x.float()
    return (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps)) * (1.0 + weight.float())


def soft_cap(x, cap):
    return torch.tanh(x / cap) * cap


def linear(w, name, x):
    bias = w.get(name + ".bias")
    return torch.nn.functional.linear(x, w[name + ".weight"], bias)


def gated_mlp(w, gate, up, down, h):
    return linear(w, down, torch.nn.functional.silu(linear(w, gate, h)) * linear(w, up, h))


def experts_sum(c, w, layer, h, chosen, weights):
    """Each token through its chosen experts [n, k], weighted [n, k] and summed, expert by expert (index_add_)."""
    out = torch.zeros_like(h)
    for e in range(c.experts):
        rows, slot = torch.where(chosen == e)
        if rows.numel() == 0:
            continue
        gate, up, down = c.expert_names(layer, e)
        out.index_add_(0, rows, gated_mlp(w, gate, up, down, h[rows]) * weights[rows, slot, None])
    return out


def sparse_moe(c, w, layer, h):
    """A sparse MoE block over h [n, dim]: each token through its top-k experts, weighted."""
    logits = linear(w, f"model.layers.{layer}.{c.moe_prefix}gate", h)            # [n, experts]
    weights = torch.softmax(logits, dim=1, dtype=torch.float32)
    weights, chosen = torch.topk(weights, c.top_k, dim=-1)
    if c.norm_topk:
        weights = weights / weights.sum(dim=-1, keepdim=True)
    out = experts_sum(c, w, layer, h, chosen, weights)
    if c.shared_hidden:
        p = f"model.layers.{layer}.mlp."
        shared = gated_mlp(w, p + "shared_expert.gate_proj", p + "shared_expert.up_proj", p + "shared_expert.down_proj", h)
        out = out + torch.sigmoid(linear(w, p + "shared_expert_gate", h)) * shared
    return out


def deepseek_moe(c, w, layer, h):
    """DeepseekV2Moe / DeepseekV3MoE over h [n, dim]."""
    p = f"model.layers.{layer}.mlp."
    logits = torch.nn.functional.linear(h.float(), w[p + "gate.weight"].float())   # [n, experts]
    scores = logits.sigmoid() if c.scoring == "sigmoid" else logits.softmax(dim=-1, dtype=torch.float32)
    choice = scores + w[p + "gate.e_score_correction_bias"] if c.topk_method == "noaux_tc" else scores
    n = h.shape[0]
    if c.topk_method in ("group_limited_greedy", "noaux_tc"):
        grouped = choice.view(n, c.n_group, -1)
        rating = grouped.topk(2, dim=-1)[0].sum(dim=-1) if c.topk_method == "noaux_tc" else grouped.max(dim=-1).values
        group_idx = torch.topk(rating, k=c.topk_group, dim=-1, sorted=False)[1]
        group_mask = torch.zeros_like(rating).scatter_(1, group_idx, 1)
        score_mask = group_mask.unsqueeze(-1).expand(n, c.n_group, c.experts // c.n_group).reshape(n, -1)
        choice = choice.masked_fill(~score_mask.bool(), 0.0)
    chosen = torch.topk(choice, k=c.top_k, dim=-1, sorted=False)[1]
    weights = scores.gather(1, chosen)
    if c.model_type == "deepseek_v3":
        if c.norm_topk:
            weights = weights / (weights.sum(dim=-1, keepdim=True) + 1e-20)
        weights = weights * c.routed_scale
    elif c.top_k > 1 and c.norm_topk:
        weights = weights / (weights.sum(dim=-1, keepdim=True) + 1e-20)
    else:
        weights = weights * c.routed_scale
    out = experts_sum(c, w, layer, h, chosen, weights)
    if c.shared_hidden:
        s = p + "shared_experts."
        out = out + gated_mlp(w, s + "gate_proj", s + "up_proj", s + "down_proj", h)
    return out


def rope_interleave(x, cos, sin):
    """apply_rotary_pos_emb_interleave: pairs (2i, 2i+1) moved to (i, i + d/2), then rotate_half."""
    *lead, d = x.shape
    x = x.view(*lead, d // 2, 2).transpose(-1, -2).reshape(*lead, d)
    return x * cos + rotate_half(x) * sin


def mla_attention(c, w, p, h, cos, sin, mask):
    """DeepseekV2Attention / DeepseekV3Attention over h [n, dim]: [n, dim] after o_proj."""
    n, a = h.shape[0], p + "self_attn."
    if c.q_lora:
        q = linear(w, a + "q_b_proj", rms_norm(linear(w, a + "q_a_proj", h), w[a + "q_a_layernorm.weight"], c.eps))
    else:
        q = linear(w, a + "q_proj", h)
    q = q.view(n, c.heads, c.head_dim).transpose(0, 1)                            # [heads, n, nope + rope]
    q_pass, q_rot = torch.split(q, [c.nope, c.rope_dim], dim=-1)
    compressed = linear(w, a + "kv_a_proj_with_mqa", h)                           # [n, kv_lora + rope]
    k_pass, k_rot = torch.split(compressed, [c.kv_lora, c.rope_dim], dim=-1)
    k_pass = linear(w, a + "kv_b_proj", rms_norm(k_pass, w[a + "kv_a_layernorm.weight"], c.eps))
    k_pass = k_pass.view(n, c.heads, c.nope + c.v_head).transpose(0, 1)
    k_pass, v = torch.split(k_pass, [c.nope, c.v_head], dim=-1)
    k_rot = k_rot.view(1, n, c.rope_dim)
    if c.interleave:
        q_rot, k_rot = rope_interleave(q_rot, cos, sin), rope_interleave(k_rot, cos, sin)
    else:
        q_rot, k_rot = q_rot * cos + rotate_half(q_rot) * sin, k_rot * cos + rotate_half(k_rot) * sin
    k_rot = k_rot.expand(c.heads, n, c.rope_dim)
    query, key = torch.cat((q_pass, q_rot), dim=-1), torch.cat((k_pass, k_rot), dim=-1)
    scaling = c.head_dim ** -0.5
    s = c.rope_scaling
    if s and s.get("mscale_all_dim"):
        m = yarn_get_mscale(s["factor"], s["mscale_all_dim"])
        scaling = scaling * m * m
    scores = query @ key.transpose(1, 2) * scaling + mask                        # [heads, n, n]
    attn = torch.softmax(scores, dim=-1, dtype=torch.float32) @ v                 # [heads, n, v_head]
    return linear(w, a + "o_proj", attn.transpose(0, 1).reshape(n, c.heads * c.v_head))


def gemma2_layer(c, w, p, x, cos, sin, mask):
    """Gemma2DecoderLayer over x [n, dim]."""
    n, groups = x.shape[0], c.heads // c.kv_heads
    h = gemma_rms_norm(x, w[p + "input_layernorm.weight"], c.eps)
    q = linear(w, p + "self_attn.q_proj", h).view(n, c.heads, c.head_dim).transpose(0, 1)
    k = linear(w, p + "self_attn.k_proj", h).view(n, c.kv_heads, c.head_dim).transpose(0, 1)
    v = linear(w, p + "self_attn.v_proj", h).view(n, c.kv_heads, c.head_dim).transpose(0, 1)
    q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
    k, v = k.repeat_interleave(groups, dim=0), v.repeat_interleave(groups, dim=0)
    scores = q @ k.transpose(1, 2) * c.scaling
    if c.attn_softcap:
        scores = soft_cap(scores, c.attn_softcap)
    attn = torch.softmax(scores + mask, dim=-1, dtype=torch.float32) @ v
    h = linear(w, p + "self_attn.o_proj", attn.transpose(0, 1).reshape(n, c.heads * c.head_dim))
    x = x + gemma_rms_norm(h, w[p + "post_attention_layernorm.weight"], c.eps)
    h = gemma_rms_norm(x, w[p + "pre_feedforward_layernorm.weight"], c.eps)
    act = torch.nn.functional.gelu(linear(w, p + "mlp.gate_proj", h), approximate="tanh")
    h = linear(w, p + "mlp.down_proj", act * linear(w, p + "mlp.up_proj", h))
    return x + gemma_rms_norm(h, w[p + "post_feedforward_layernorm.weight"], c.eps)


def forward(c, w, ids):
    """Logits [seq, vocab] of one sequence of token ids, every position recomputed (no cache)."""
    n = len(ids)
    x = w["model.embed_tokens.weight"][torch.tensor(ids)]                         # [n, dim]
    if c.gemma2:
        x = x * torch.tensor(c.dim ** 0.5, dtype=x.dtype)
    inv_freq, attention_factor = inverse_frequencies(c)
    freqs = torch.arange(n, dtype=torch.float32)[:, None] @ inv_freq[None, :]
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos() * attention_factor, emb.sin() * attention_factor       # [n, rotated dims]
    i, j = torch.arange(n)[:, None], torch.arange(n)[None, :]
    visible = j <= i
    mask = torch.zeros(n, n).masked_fill(~visible, torch.finfo(torch.float32).min)
    if c.window is not None:
        visible &= j > i - c.window
    window_mask = torch.zeros(n, n).masked_fill(~visible, torch.finfo(torch.float32).min)
    if not c.gemma2:
        mask = window_mask
    groups = c.heads // c.kv_heads
    for layer in range(c.layers):
        p = f"model.layers.{layer}."
        if c.gemma2:
            x = gemma2_layer(c, w, p, x, cos, sin, window_mask if layer in c.local_layers else mask)
            continue
        h = rms_norm(x, w[p + "input_layernorm.weight"], c.eps)
        if c.mla:
            x = x + mla_attention(c, w, p, h, cos, sin, mask)
            h = rms_norm(x, w[p + "post_attention_layernorm.weight"], c.eps)
            if layer in c.sparse_layers:
                x = x + deepseek_moe(c, w, layer, h)
            else:
                x = x + gated_mlp(w, p + "mlp.gate_proj", p + "mlp.up_proj", p + "mlp.down_proj", h)
            continue
        q = linear(w, p + "self_attn.q_proj", h).view(n, c.heads, c.head_dim)
        k = linear(w, p + "self_attn.k_proj", h).view(n, c.kv_heads, c.head_dim)
        if c.qk_norm:
            q = rms_norm(q, w[p + "self_attn.q_norm.weight"], c.eps)
            k = rms_norm(k, w[p + "self_attn.k_norm.weight"], c.eps)
        q, k = q.transpose(0, 1), k.transpose(0, 1)
        v = linear(w, p + "self_attn.v_proj", h).view(n, c.kv_heads, c.head_dim).transpose(0, 1)
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        k = k.repeat_interleave(groups, dim=0)                                    # repeat_kv
        v = v.repeat_interleave(groups, dim=0)
        scores = q @ k.transpose(1, 2) / math.sqrt(c.head_dim) + mask             # [heads, n, n]
        attn = torch.softmax(scores, dim=-1, dtype=torch.float32) @ v             # [heads, n, head_dim]
        x = x + linear(w, p + "self_attn.o_proj", attn.transpose(0, 1).reshape(n, c.heads * c.head_dim))
        h = rms_norm(x, w[p + "post_attention_layernorm.weight"], c.eps)
        if layer in c.sparse_layers:
            x = x + sparse_moe(c, w, layer, h)
        else:
            x = x + gated_mlp(w, p + "mlp.gate_proj", p + "mlp.up_proj", p + "mlp.down_proj", h)
    x = (gemma_rms_norm if c.gemma2 else rms_norm)(x, w["model.norm.weight"], c.eps)
    head = w["model.embed_tokens.weight"] if c.tied else w["lm_head.weight"]
    logits = x @ head.T
    return soft_cap(logits, c.final_softcap) if c.final_softcap else logits


def greedy(c, w, prompt, gen, penalty):
    ids, out, margin = list(prompt), [], math.inf
    for _ in range(gen):
        logits = forward(c, w, ids)[-1].clone()
        if penalty != 1.0:
            seen = torch.tensor(sorted(set(ids)))
            score = logits[seen]
            logits[seen] = torch.where(score < 0, score * penalty, score / penalty)
        top = torch.topk(logits, 2).values
        margin = min(margin, float(top[0] - top[1]))
        token = int(torch.argmax(logits))
        ids.append(token)
        out.append(token)
    return out, margin


# ---- commands --------------------------------------------------------------------------------------------------

def make(args):
    with open(args.config) as f:
        config_json = json.load(f)
    c = Config(config_json)
    torch.manual_seed(args.seed)
    tensors = []
    for name, shape in parameter_shapes(c):
        if name.endswith("norm.weight"):
            # not ones, so that a norm weight left out shows; Gemma's norms scale by 1 + w, so w is near 0 there
            t = (0 if c.gemma2 else 1) + 0.1 * torch.randn(shape)
        else:
            t = args.std * torch.randn(shape)
        tensors.append((name, t.to(DTYPES[args.dtype])))
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "config.json"), "w") as f:
        json.dump(config_json, f, indent=2)
    if args.shards <= 1:
        write_safetensors(os.path.join(args.out, "model.safetensors"), tensors)
        return
    per = math.ceil(len(tensors) / args.shards)
    weight_map, total = {}, 0
    for s in range(args.shards):
        part = tensors[s * per:(s + 1) * per]
        name = f"model-{s + 1:05d}-of-{args.shards:05d}.safetensors"
        write_safetensors(os.path.join(args.out, name), part)
        for tensor_name, t in part:
            weight_map[tensor_name] = name
            total += t.numel() * t.element_size()
    with open(os.path.join(args.out, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=2)


def generate(args):
    with open(os.path.join(args.checkpoint, "config.json")) as f:
        c = Config(json.load(f))
    w = read_checkpoint(args.checkpoint)
    prompts = [[int(t) for t in p.split()] for p in args.prompt_ids.split(";") if p.strip()]
    tokens, margin = [], math.inf
    with torch.no_grad():
        for prompt in prompts:
            out, m = greedy(c, w, prompt, args.gen, args.repetition_penalty)
            tokens.append(out)
            margin = min(margin, m)
    json.dump({"tokens": tokens, "min_margin": margin}, sys.stdout)
    print()


def parser_of():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    m = sub.add_parser("make", help="write a random checkpoint")
    m.add_argument("--config", required=True)
    m.add_argument("--out", required=True)
    m.add_argument("--dtype", choices=sorted(DTYPES), default="F32")
    m.add_argument("--shards", type=int, default=1)
    m.add_argument("--seed", type=int, default=0)
    m.add_argument("--std", type=float, default=0.2)  # rich token sequences, well-separated logits
    g = sub.add_parser("generate", help="greedy tokens as transformers computes them")
    g.add_argument("--checkpoint", required=True)
    g.add_argument("--prompt-ids", required=True)
    g.add_argument("--gen", type=int, required=True)
    g.add_argument("--repetition-penalty", type=float, default=1.0)
    b = sub.add_parser("batch", help="run the make and generate jobs of a file in one process")
    b.add_argument("--jobs", required=True)
    return parser


def batch(args):
    parser = parser_of()
    with open(args.jobs) as f:
        lines = [line.rstrip("\n") for line in f if line.strip()]
    for number, line in enumerate(lines, 1):
        out, *argv = line.split("\t")
        job = parser.parse_args(argv)
        if job.command == "batch":
            sys.exit(f"{args.jobs}:{number}: a batch cannot run a batch")
        if out == "-":
            COMMANDS[job.command](job)
            continue
        with open(out, "w") as sink, contextlib.redirect_stdout(sink):
            COMMANDS[job.command](job)


COMMANDS = {"make": make, "generate": generate, "batch": batch}


def main():
    args = parser_of().parse_args()
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    COMMANDS[args.command](args)


if __name__ == "__main__":
    main()
