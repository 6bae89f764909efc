// The per-operator cost model of one forward step of a decoder: one set of formulas for prefill
// (q_len = prompt, kv_len = 0) and decode (q_len = 1, kv_len = context so far).
#pragma once

#include "opmodel/model_config.hpp"
#include "opmodel/op_cost.hpp"
#include "opmodel/scenario.hpp"

namespace opmodel {

// Attention geometry of one sequence for a step with q new tokens after k cached ones, for layers attending to
// the last W positions (W absent = all) or, chunked, to the positions of their own aligned chunk of W (query at
// position p sees p - floor(p/W)*W + 1 keys). These are what a causal kernel computes.
struct AttentionSpan {
  double pairs = 0;       // sum over queries of keys attended: sum_{p=k}^{k+q-1} min(p+1, W)
  double keys_read = 0;   // distinct positions touched, the new ones included: k+q - max(0, k+1-W)
  double cache_len = 0;   // positions held in the cache after the step: min(k+q, W)
};
AttentionSpan attention_span(std::int64_t q_len, std::int64_t kv_len, std::optional<std::int64_t> window,
                             bool chunked = false);

// Bytes of an N x K weight matrix (N outputs, K inputs) stored as `dtype`, with one fp16 scale per
// `group_size` inputs of each row for int8/int4: N*K*bytes + N*ceil(K/G)*2.
double matrix_bytes(std::int64_t n, std::int64_t k, DType dtype, std::int64_t group_size);

// Dtype of the weights that quantization leaves alone (embedding, lm_head, norms, router): the
// weight dtype when it is not quantized, else the activation dtype, else fp16.
DType dense_weight_dtype(const Scenario& s);

// Expected number of distinct experts that T tokens, each routed to k of E experts uniformly,
// touch: E * (1 - (1 - k/E)^T). Equals k for one token, tends to E for many.
double expected_distinct_experts(double tokens, std::int64_t experts, std::int64_t per_token);

// One kind of sequence in a step (a serving step mixes them): `count` sequences, each with q_len new tokens
// after kv_len cached, of which logit_rows go through lm_head (0: a prefill chunk that does not end its
// prompt; 1: the last token; q_len: every token, as all_logits or speculative verification need).
struct SequenceShape {
  std::int64_t count = 1;
  std::int64_t q_len = 1;
  std::int64_t kv_len = 0;
  std::int64_t logit_rows = 1;
};

// Attention spans summed over a step's sequences, for one kind of layer.
struct SpanSum {
  double pairs = 0;      // (query, key) pairs per head: sum of count x span.pairs
  double keys_read = 0;  // positions read per KV head: sum of count x span.keys_read
};

// What a step's ops depend on, summed over its sequences: linear and element-wise ops see only the
// step's tokens; attention sees each sequence's own (q_len, kv_len), through its span, in the global layers and
// in the local (sliding-window or chunked) ones.
struct BatchShape {
  double sequences = 0;       // B
  double tokens = 0;          // T = sum of count x q_len
  double rope_positions = 0;  // cos/sin rows RoPE reads: q_len per shape (sequences of one shape share them)
  SpanSum global;             // layers attending to every cached position
  SpanSum local;              // layers attending within the model's window or chunk (zero when it has none)
  // Decode-like sequences: every new token yields logits after a cached context (a decode, or speculative
  // verification): their tokens and their part of `global`. MLA's automatic form runs them absorbed.
  double decode_tokens = 0;
  double decode_sequences = 0;
  SpanSum decode;
  double logit_rows = 0;      // rows lm_head computes: sum of count x logit_rows
  // Adds `count` sequences of that shape to a step of model m.
  void add(const SequenceShape& seq, const ModelConfig& m);
};

// The batch shape of a uniform step: s.batch sequences of (s.q_len, s.kv_len), logits of each last token
// (of every token with all_logits).
BatchShape uniform_batch(const ModelConfig& m, const Scenario& s);

// Fills `out` with the ops of one step, in execution order. Scenario must be validated.
// Equals step_ops(m, s, uniform_batch(m, s), out).
void step_ops(const ModelConfig& m, const Scenario& s, OpList& out);
// The ops of a step of any mix of sequences; s gives only the dtypes, attention, fusions (its batch,
// q_len, kv_len and all_logits are not read). b.tokens must be at least 1.
void step_ops(const ModelConfig& m, const Scenario& s, const BatchShape& b, OpList& out);

}  // namespace opmodel
