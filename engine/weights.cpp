#include "engine/weights.hpp"

#include <cmath>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "engine/error.hpp"
#include "engine/safetensors.hpp"

namespace engine {
namespace {

std::int64_t group_of(const WeightOptions& o, std::int64_t k) {
  return o.group_size == 0 ? k : o.group_size;
}

Linear make(const std::string& name, const Buffer<float>& w, std::int64_t n, std::int64_t k, WeightFormat f,
            const WeightOptions& o, const Buffer<float>* bias) {
  return make_linear(name, w.data(), n, k, f, f == WeightFormat::int8 ? group_of(o, k) : 0,
                     bias && !bias->empty() ? bias->data() : nullptr);
}

WeightFormat head_format(const WeightOptions& o) {
  return o.format == WeightFormat::int8 ? WeightFormat::f32 : o.format;
}

// splitmix64: a fast, well-mixed 64-bit generator; one stream per 64 Ki-element chunk keeps the values
// independent of how many threads fill the tensor.
std::uint64_t splitmix(std::uint64_t& s) {
  std::uint64_t z = (s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

Buffer<float> uniform(std::int64_t n, std::uint64_t seed, float center, float bound) {
  Buffer<float> b{std::size_t(n)};
  constexpr std::int64_t kChunk = 1 << 16;
  const std::int64_t chunks = (n + kChunk - 1) / kChunk;
#pragma omp parallel for schedule(static)
  for (std::int64_t c = 0; c < chunks; ++c) {
    std::uint64_t s = seed * 0x2545f4914f6cdd1dull + std::uint64_t(c);
    splitmix(s);
    for (std::int64_t i = c * kChunk; i < std::min(n, (c + 1) * kChunk); ++i) {
      const double u = double(splitmix(s) >> 11) * 0x1.0p-53;  // [0, 1)
      b[std::size_t(i)] = center + bound * float(2 * u - 1);
    }
  }
  return b;
}

// Where a family keeps a MoE layer's router and experts: prefix + "gate", prefix + "experts.E." + gate/up/down.
struct MoeNames {
  std::string prefix;            // "block_sparse_moe." or "mlp."
  std::string gate, up, down;    // "w1", "w3", "w2" or "gate_proj", "up_proj", "down_proj"
  std::string shared;            // the shared expert's module: "mlp.shared_expert." (Qwen2-MoE), "mlp.shared_experts."
};
MoeNames moe_names(const Config& c) {
  if (c.model_type == "mixtral") return {"block_sparse_moe.", "w1", "w3", "w2", ""};
  if (c.mla) return {"mlp.", "gate_proj", "up_proj", "down_proj", "mlp.shared_experts."};
  return {"mlp.", "gate_proj", "up_proj", "down_proj", "mlp.shared_expert."};
}

}  // namespace

std::size_t Weights::bytes() const {
  std::size_t n = (embed.size() + final_norm.size()) * 4 + lm_head.weight_bytes();
  for (const auto& l : layers) {
    n += (l.attn_norm.size() + l.mlp_norm.size() + l.q_norm.size() + l.k_norm.size() + l.post_attn_norm.size() +
          l.post_mlp_norm.size()) * 4 + l.wq.weight_bytes() +
         l.wk.weight_bytes() + l.wv.weight_bytes() + l.wo.weight_bytes() + l.w_gate.weight_bytes() +
         l.w_up.weight_bytes() + l.w_down.weight_bytes() + l.router.weight_bytes() + l.s_gate.weight_bytes() +
         l.s_up.weight_bytes() + l.s_down.weight_bytes() + l.s_router.weight_bytes() + l.router_bias.size() * 4 +
         l.wq_a.weight_bytes() + l.wq_b.weight_bytes() + l.wkv_a.weight_bytes() + l.wkv_b.weight_bytes() +
         (l.q_a_norm.size() + l.kv_a_norm.size()) * 4;
    for (std::size_t h = 0; h < l.uk_t.size(); ++h) n += l.uk_t[h].weight_bytes() + l.uv[h].weight_bytes();
    for (std::size_t e = 0; e < l.e_gate.size(); ++e)
      n += l.e_gate[e].weight_bytes() + l.e_up[e].weight_bytes() + l.e_down[e].weight_bytes();
  }
  return n;
}

double weight_bytes(const Config& c, const WeightOptions& o) {
  const double per = o.format == WeightFormat::f32 ? 4 : o.format == WeightFormat::bf16 ? 2 : 1;
  const double scale = o.format == WeightFormat::int8 ? 2.0 / double(o.group_size == 0 ? c.dim : o.group_size) : 0;
  auto matrix = [&](double n, double k) { return n * k * (per + scale); };
  const double head_per = o.format == WeightFormat::int8 ? 4 : per;  // router, shared gate, lm_head: fp32 or as the layers
  const double d = double(c.dim), f = double(c.hidden_dim);
  double attention = matrix(double(c.q_dim()), d) + 2 * matrix(double(c.kv_dim()), d) + matrix(d, double(c.q_dim()));
  if (c.mla) {  // q (low-rank or full), kv_a, kv_b, o, the norms, and the absorbed copies of kv_b
    const MlaConfig& a = *c.mla;
    const double h = double(c.n_heads), rq = double(a.q_lora_rank), r = double(a.kv_lora_rank);
    const double q = a.q_lora_rank > 0 ? matrix(rq, d) + 4 * rq + matrix(double(c.q_dim()), rq) : matrix(double(c.q_dim()), d);
    const double kv_b = matrix(h * double(a.qk_nope_head_dim + a.v_head_dim), r);
    attention = q + matrix(r + double(a.qk_rope_head_dim), d) + 4 * r + 2 * kv_b + matrix(d, double(c.attn_out_dim()));
  }
  // the layer's norms (and q/k norms, post-norms)
  attention += (c.post_norms ? 4 : 2) * 4 * d + (c.qk_norm ? 2 * 4 * double(c.head_dim) : 0);
  double layers = 0;
  for (std::int64_t i = 0; i < c.n_layers; ++i) {
    layers += attention;
    if (c.sparse(i))  // router (in lm_head's format), experts, and the shared expert with its gate
      layers += double(c.moe->experts) * (head_per * d + 3 * matrix(double(c.moe->hidden), d)) +
                3 * matrix(double(c.moe->shared_hidden), d) +
                (c.moe->shared_hidden > 0 && c.moe->shared_gated ? head_per * d : 0) +
                (c.moe->score_bias ? 4 * double(c.moe->experts) : 0);
    else
      layers += 3 * matrix(f, d);
  }
  const double vocab = double(c.vocab_size) * d;
  const double head = vocab * head_per;  // tied too: lm_head keeps its own copy of the embedding, in its format
  return layers + 4 * vocab + head + 4 * d;  // + the final norm
}

Weights load_weights(const Config& c, const std::string& checkpoint, const WeightOptions& o) {
  Checkpoint ck(checkpoint);
  Weights w;
  w.config = c;
  w.options = o;
  const std::int64_t d = c.dim, f = c.hidden_dim, qd = c.q_dim(), kvd = c.kv_dim(), V = c.vocab_size;
  w.embed = ck.read_f32("model.embed_tokens.weight", {V, d});
  auto bias = [&](const std::string& name, std::int64_t n, bool present) {
    return present ? ck.read_f32(name, {n}) : Buffer<float>();
  };
  // A norm's weight as the engine applies it: 1 + w for Gemma's (1 + w) RMSNorm, as float32 computes it.
  auto norm = [&](const std::string& name, std::int64_t n) {
    Buffer<float> b = ck.read_f32(name, {n});
    if (c.norm_plus_one)
      for (std::size_t i = 0; i < b.size(); ++i) b[i] = 1.0f + b[i];
    return b;
  };
  for (std::int64_t i = 0; i < c.n_layers; ++i) {
    const std::string p = fmt::format("model.layers.{}.", i);
    LayerWeights l;
    l.attn_norm = norm(p + "input_layernorm.weight", d);
    if (c.post_norms) {  // Gemma 2: post_attention_layernorm follows attention; pre_feedforward_layernorm feeds the MLP
      l.post_attn_norm = norm(p + "post_attention_layernorm.weight", d);
      l.mlp_norm = norm(p + "pre_feedforward_layernorm.weight", d);
      l.post_mlp_norm = norm(p + "post_feedforward_layernorm.weight", d);
    } else {
      l.mlp_norm = norm(p + "post_attention_layernorm.weight", d);
    }
    if (c.mla) {
      const MlaConfig& a = *c.mla;
      const std::int64_t rq = a.q_lora_rank, r = a.kv_lora_rank, kvr = r + a.qk_rope_head_dim;
      const std::int64_t kvb = c.n_heads * (a.qk_nope_head_dim + a.v_head_dim), od = c.attn_out_dim();
      const std::string x = p + "self_attn.";
      if (rq > 0) {
        l.wq_a = make(x + "q_a_proj", ck.read_f32(x + "q_a_proj.weight", {rq, d}), rq, d, o.format, o, nullptr);
        l.q_a_norm = ck.read_f32(x + "q_a_layernorm.weight", {rq});
        l.wq_b = make(x + "q_b_proj", ck.read_f32(x + "q_b_proj.weight", {qd, rq}), qd, rq, o.format, o, nullptr);
      } else {
        l.wq = make(x + "q_proj", ck.read_f32(x + "q_proj.weight", {qd, d}), qd, d, o.format, o, nullptr);
      }
      l.wkv_a = make(x + "kv_a_proj_with_mqa", ck.read_f32(x + "kv_a_proj_with_mqa.weight", {kvr, d}), kvr, d, o.format, o,
                     nullptr);
      l.kv_a_norm = ck.read_f32(x + "kv_a_layernorm.weight", {r});
      const Buffer<float> kv_b = ck.read_f32(x + "kv_b_proj.weight", {kvb, r});
      l.wkv_b = make(x + "kv_b_proj", kv_b, kvb, r, o.format, o, nullptr);
      absorb_mla(l, c, kv_b.data(), o.format, o);
      l.wo = make(x + "o_proj", ck.read_f32(x + "o_proj.weight", {d, od}), d, od, o.format, o, nullptr);
    } else {
      const auto bq = bias(p + "self_attn.q_proj.bias", qd, c.qkv_bias), bk = bias(p + "self_attn.k_proj.bias", kvd, c.qkv_bias),
                 bv = bias(p + "self_attn.v_proj.bias", kvd, c.qkv_bias), bo = bias(p + "self_attn.o_proj.bias", d, c.o_bias);
      l.wq = make(p + "q_proj", ck.read_f32(p + "self_attn.q_proj.weight", {qd, d}), qd, d, o.format, o, &bq);
      l.wk = make(p + "k_proj", ck.read_f32(p + "self_attn.k_proj.weight", {kvd, d}), kvd, d, o.format, o, &bk);
      l.wv = make(p + "v_proj", ck.read_f32(p + "self_attn.v_proj.weight", {kvd, d}), kvd, d, o.format, o, &bv);
      l.wo = make(p + "o_proj", ck.read_f32(p + "self_attn.o_proj.weight", {d, qd}), d, qd, o.format, o, &bo);
    }
    if (c.qk_norm) {
      l.q_norm = ck.read_f32(p + "self_attn.q_norm.weight", {c.head_dim});
      l.k_norm = ck.read_f32(p + "self_attn.k_norm.weight", {c.head_dim});
    }
    if (c.sparse(i)) {
      const MoeNames m = moe_names(c);
      const std::int64_t E = c.moe->experts, fe = c.moe->hidden;
      l.router = make("router", ck.read_f32(p + m.prefix + "gate.weight", {E, d}), E, d, head_format(o), o, nullptr);
      if (c.moe->score_bias) l.router_bias = ck.read_f32(p + m.prefix + "gate.e_score_correction_bias", {E});
      for (std::int64_t e = 0; e < E; ++e) {
        const std::string x = fmt::format("{}{}experts.{}.", p, m.prefix, e);
        l.e_gate.push_back(make(x + m.gate, ck.read_f32(x + m.gate + ".weight", {fe, d}), fe, d, o.format, o, nullptr));
        l.e_up.push_back(make(x + m.up, ck.read_f32(x + m.up + ".weight", {fe, d}), fe, d, o.format, o, nullptr));
        l.e_down.push_back(make(x + m.down, ck.read_f32(x + m.down + ".weight", {d, fe}), d, fe, o.format, o, nullptr));
      }
      if (const std::int64_t fs = c.moe->shared_hidden; fs > 0) {
        const std::string x = p + m.shared;
        l.s_gate = make(x + "gate_proj", ck.read_f32(x + "gate_proj.weight", {fs, d}), fs, d, o.format, o, nullptr);
        l.s_up = make(x + "up_proj", ck.read_f32(x + "up_proj.weight", {fs, d}), fs, d, o.format, o, nullptr);
        l.s_down = make(x + "down_proj", ck.read_f32(x + "down_proj.weight", {d, fs}), d, fs, o.format, o, nullptr);
        if (c.moe->shared_gated)
          l.s_router = make("shared_expert_gate", ck.read_f32(p + "mlp.shared_expert_gate.weight", {1, d}), 1, d,
                            head_format(o), o, nullptr);
      }
      w.layers.push_back(std::move(l));
      continue;
    }
    const auto bg = bias(p + "mlp.gate_proj.bias", f, c.mlp_bias), bu = bias(p + "mlp.up_proj.bias", f, c.mlp_bias),
               bd = bias(p + "mlp.down_proj.bias", d, c.mlp_bias);
    l.w_gate = make(p + "gate_proj", ck.read_f32(p + "mlp.gate_proj.weight", {f, d}), f, d, o.format, o, &bg);
    l.w_up = make(p + "up_proj", ck.read_f32(p + "mlp.up_proj.weight", {f, d}), f, d, o.format, o, &bu);
    l.w_down = make(p + "down_proj", ck.read_f32(p + "mlp.down_proj.weight", {d, f}), d, f, o.format, o, &bd);
    w.layers.push_back(std::move(l));
  }
  w.final_norm = norm("model.norm.weight", d);
  // Tied models may still carry lm_head.weight (a copy); use it when present, else the embedding.
  if (!c.tie_word_embeddings || ck.has("lm_head.weight"))
    w.lm_head = make("lm_head", ck.read_f32("lm_head.weight", {V, d}), V, d, head_format(o), o, nullptr);
  else
    w.lm_head = make("lm_head", w.embed, V, d, head_format(o), o, nullptr);
  return w;
}

Weights random_weights(const Config& c, std::uint64_t seed, const WeightOptions& o) {
  Weights w;
  w.config = c;
  w.options = o;
  const std::int64_t d = c.dim, f = c.hidden_dim, qd = c.q_dim(), kvd = c.kv_dim(), V = c.vocab_size;
  std::uint64_t stream = seed * 1000003u;
  auto next = [&] { return ++stream; };
  auto rand_linear = [&](const std::string& name, std::int64_t n, std::int64_t k, bool has_bias, WeightFormat fmt_) {
    const float bound = 1.0f / std::sqrt(float(k));
    const Buffer<float> m = uniform(n * k, next(), 0, bound);
    const Buffer<float> b = has_bias ? uniform(n, next(), 0, bound) : Buffer<float>();
    return make(name, m, n, k, fmt_, o, &b);
  };
  w.embed = uniform(V * d, next(), 0, 1);
  for (std::int64_t i = 0; i < c.n_layers; ++i) {
    LayerWeights l;
    l.attn_norm = uniform(d, next(), 1, 0.1f);
    l.mlp_norm = uniform(d, next(), 1, 0.1f);
    if (c.post_norms) {
      l.post_attn_norm = uniform(d, next(), 1, 0.1f);
      l.post_mlp_norm = uniform(d, next(), 1, 0.1f);
    }
    if (c.mla) {
      const MlaConfig& a = *c.mla;
      const std::int64_t rq = a.q_lora_rank, r = a.kv_lora_rank, kvb = c.n_heads * (a.qk_nope_head_dim + a.v_head_dim);
      if (rq > 0) {
        l.wq_a = rand_linear("q_a_proj", rq, d, false, o.format);
        l.q_a_norm = uniform(rq, next(), 1, 0.1f);
        l.wq_b = rand_linear("q_b_proj", qd, rq, false, o.format);
      } else {
        l.wq = rand_linear("q_proj", qd, d, false, o.format);
      }
      l.wkv_a = rand_linear("kv_a_proj", r + a.qk_rope_head_dim, d, false, o.format);
      l.kv_a_norm = uniform(r, next(), 1, 0.1f);
      const Buffer<float> kv_b = uniform(kvb * r, next(), 0, 1.0f / std::sqrt(float(r)));
      l.wkv_b = make("kv_b_proj", kv_b, kvb, r, o.format, o, nullptr);
      absorb_mla(l, c, kv_b.data(), o.format, o);
      l.wo = rand_linear("o_proj", d, c.attn_out_dim(), false, o.format);
    } else {
      l.wq = rand_linear("q_proj", qd, d, c.qkv_bias, o.format);
      l.wk = rand_linear("k_proj", kvd, d, c.qkv_bias, o.format);
      l.wv = rand_linear("v_proj", kvd, d, c.qkv_bias, o.format);
      l.wo = rand_linear("o_proj", d, qd, c.o_bias, o.format);
    }
    if (c.qk_norm) {
      l.q_norm = uniform(c.head_dim, next(), 1, 0.1f);
      l.k_norm = uniform(c.head_dim, next(), 1, 0.1f);
    }
    if (c.sparse(i)) {
      const std::int64_t E = c.moe->experts, fe = c.moe->hidden;
      l.router = rand_linear("router", E, d, false, head_format(o));
      if (c.moe->score_bias) l.router_bias = uniform(E, next(), 0, 0.1f);
      for (std::int64_t e = 0; e < E; ++e) {
        l.e_gate.push_back(rand_linear("expert_gate_proj", fe, d, false, o.format));
        l.e_up.push_back(rand_linear("expert_up_proj", fe, d, false, o.format));
        l.e_down.push_back(rand_linear("expert_down_proj", d, fe, false, o.format));
      }
      if (const std::int64_t fs = c.moe->shared_hidden; fs > 0) {
        l.s_gate = rand_linear("shared_gate_proj", fs, d, false, o.format);
        l.s_up = rand_linear("shared_up_proj", fs, d, false, o.format);
        l.s_down = rand_linear("shared_down_proj", d, fs, false, o.format);
        if (c.moe->shared_gated) l.s_router = rand_linear("shared_gate", 1, d, false, head_format(o));
      }
    } else {
      l.w_gate = rand_linear("gate_proj", f, d, c.mlp_bias, o.format);
      l.w_up = rand_linear("up_proj", f, d, c.mlp_bias, o.format);
      l.w_down = rand_linear("down_proj", d, f, c.mlp_bias, o.format);
    }
    w.layers.push_back(std::move(l));
  }
  w.final_norm = uniform(d, next(), 1, 0.1f);
  if (c.tie_word_embeddings)
    w.lm_head = make("lm_head", w.embed, V, d, head_format(o), o, nullptr);
  else
    w.lm_head = rand_linear("lm_head", V, d, false, head_format(o));
  return w;
}

void save_checkpoint(const Weights& w, const std::string& config_json_text, const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_directory(dir, ec))
    throw EngineError(dir, "", "exists and is not a directory (a checkpoint is written as a directory)");
  fs::create_directories(dir, ec);
  if (ec) throw EngineError(dir, "", fmt::format("cannot create the checkpoint directory: {}", ec.message()));
  const Config& c = w.config;
  std::vector<Buffer<float>> store;  // dequantized copies kept alive until written
  std::vector<NamedTensor> tensors;
  auto add = [&](const std::string& name, std::vector<std::int64_t> shape, const float* data) {
    tensors.push_back({name, std::move(shape), data});
  };
  auto add_linear = [&](const std::string& name, const Linear& l) {
    Buffer<float> b(std::size_t(l.n * l.k));
    for (std::int64_t r = 0; r < l.n; ++r) l.dequantize_row(r, b.data() + r * l.k);
    store.push_back(std::move(b));
    add(name + ".weight", {l.n, l.k}, store.back().data());
    if (!l.bias.empty()) add(name + ".bias", {l.n}, l.bias.data());
  };
  // A norm as the checkpoint holds it: w, where the engine applies 1 + w (Gemma).
  auto add_norm = [&](const std::string& name, const Buffer<float>& g) {
    if (!c.norm_plus_one) return add(name, {std::int64_t(g.size())}, g.data());
    Buffer<float> b(g.size());
    for (std::size_t i = 0; i < g.size(); ++i) b[i] = g[i] - 1.0f;
    store.push_back(std::move(b));
    add(name, {std::int64_t(g.size())}, store.back().data());
  };
  std::size_t linears = 0;  // store must not reallocate: tensors point into it
  for (const LayerWeights& l : w.layers) linears += 12 + 3 * l.e_gate.size() + 4;
  store.reserve(linears + 1);
  add("model.embed_tokens.weight", {c.vocab_size, c.dim}, w.embed.data());
  for (std::int64_t i = 0; i < c.n_layers; ++i) {
    const std::string p = fmt::format("model.layers.{}.", i);
    const LayerWeights& l = w.layers[std::size_t(i)];
    add_norm(p + "input_layernorm.weight", l.attn_norm);
    if (c.post_norms) {
      add_norm(p + "post_attention_layernorm.weight", l.post_attn_norm);
      add_norm(p + "pre_feedforward_layernorm.weight", l.mlp_norm);
      add_norm(p + "post_feedforward_layernorm.weight", l.post_mlp_norm);
    } else {
      add_norm(p + "post_attention_layernorm.weight", l.mlp_norm);
    }
    if (c.mla) {
      if (c.mla->q_lora_rank > 0) {
        add_linear(p + "self_attn.q_a_proj", l.wq_a);
        add(p + "self_attn.q_a_layernorm.weight", {c.mla->q_lora_rank}, l.q_a_norm.data());
        add_linear(p + "self_attn.q_b_proj", l.wq_b);
      } else {
        add_linear(p + "self_attn.q_proj", l.wq);
      }
      add_linear(p + "self_attn.kv_a_proj_with_mqa", l.wkv_a);
      add(p + "self_attn.kv_a_layernorm.weight", {c.mla->kv_lora_rank}, l.kv_a_norm.data());
      add_linear(p + "self_attn.kv_b_proj", l.wkv_b);
    } else {
      add_linear(p + "self_attn.q_proj", l.wq);
      add_linear(p + "self_attn.k_proj", l.wk);
      add_linear(p + "self_attn.v_proj", l.wv);
    }
    add_linear(p + "self_attn.o_proj", l.wo);
    if (c.qk_norm) {
      add(p + "self_attn.q_norm.weight", {c.head_dim}, l.q_norm.data());
      add(p + "self_attn.k_norm.weight", {c.head_dim}, l.k_norm.data());
    }
    if (c.sparse(i)) {
      const MoeNames m = moe_names(c);
      add_linear(p + m.prefix + "gate", l.router);
      if (c.moe->score_bias) add(p + m.prefix + "gate.e_score_correction_bias", {c.moe->experts}, l.router_bias.data());
      for (std::size_t e = 0; e < l.e_gate.size(); ++e) {
        const std::string x = fmt::format("{}{}experts.{}.", p, m.prefix, e);
        add_linear(x + m.gate, l.e_gate[e]);
        add_linear(x + m.up, l.e_up[e]);
        add_linear(x + m.down, l.e_down[e]);
      }
      if (c.moe->shared_hidden > 0) {
        add_linear(p + m.shared + "gate_proj", l.s_gate);
        add_linear(p + m.shared + "up_proj", l.s_up);
        add_linear(p + m.shared + "down_proj", l.s_down);
        if (c.moe->shared_gated) add_linear(p + "mlp.shared_expert_gate", l.s_router);
      }
      continue;
    }
    add_linear(p + "mlp.gate_proj", l.w_gate);
    add_linear(p + "mlp.up_proj", l.w_up);
    add_linear(p + "mlp.down_proj", l.w_down);
  }
  add_norm("model.norm.weight", w.final_norm);
  if (!c.tie_word_embeddings) add_linear("lm_head", w.lm_head);
  write_safetensors((fs::path(dir) / "model.safetensors").string(), tensors);
  std::ofstream out(fs::path(dir) / "config.json");
  out << config_json_text;
  if (!out) throw EngineError(dir, "config.json", "write failed");
}

}  // namespace engine
