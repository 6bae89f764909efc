// Internal to opmodel: the shape a step's formulas read, the op primitives, and the blocks of a layer
// (attention_ops.cpp, mlp_ops.cpp). step_ops.cpp puts them in order.
#pragma once

#include <string_view>

#include "opmodel/model_config.hpp"
#include "opmodel/op_cost.hpp"
#include "opmodel/scenario.hpp"
#include "opmodel/step_ops.hpp"

namespace opmodel::detail {

// Everything a formula needs, computed once per step.
struct Shape {
  double T, d, V;                        // tokens, hidden, vocabulary
  double sequences, positions, logit_rows;  // from BatchShape
  SpanSum global, local;                 // attention spans of the global and the local layers
  double decode_tokens, decode_sequences;  // tokens and sequences of decode-like sequences, and their global span
  SpanSum decode;
  double a, c;                           // activation and KV bytes per element
  DType kv;                              // the KV cache's format
  double a_float;                        // bytes of the float dtype scores and dense-weight outputs use
  DType act, act_float;                  // activation dtype; the float one dense weights compute in
  DType gemm_in;                         // what projections read and compute in: gemm_input_dtype, else act
  DType attn;                            // what attention computes in: the scenario's attention_dtype, else act_float
  double a_attn;                         // bytes of an attention dtype element (the naive form's scores)
  DType w_attn, w_mlp, w_exp, w0;        // weights: attention, dense MLP/shared experts, routed experts, the rest
  std::int64_t group;                    // int8/int4 group size
};
Shape shape_of(const ModelConfig& m, const Scenario& s, const BatchShape& b);

// y[rows, n] = x[rows, k] W^T (+ bias): 2*rows*n*k FLOP (+ rows*n for the bias); reads W once and x once, writes y
// once. Block-float weights compute in their own format (up-converting to act_float where the part lacks it).
OpCost linear(std::string_view name, double rows, double n, double k, DType wdtype, DType compute, bool bias,
              const Shape& x, std::int64_t count);
OpCost vector_op(std::string_view name, double flops, std::int64_t count);
// RMSNorm of `rows` vectors of `width` (4*width + 3 FLOP each); weights: with a scale vector of `width`.
OpCost rms_norm(std::string_view name, double rows, double width, const Shape& x, std::int64_t count,
                bool weights = true);
// FLOP per element of act(gate) * up: SiLU 5 (exp, add, reciprocal, multiply, gating multiply); GELU-tanh 10
// (x^3 2, scale 1, add 1, scale 1, tanh 1, add 1, multiply 2, gating 1); GPT-OSS's clamped SwiGLU 10 (clamp
// gate 1, clamp up 2, sigmoid of alpha*gate 5, +1 on up 1, gating 1).
double activation_flops(Activation a);

// The attention block of the softmax-attention layers: projections, norms, RoPE, attention, o_proj (MHA/GQA or
// MLA); then the linear-attention layers' block. Both push in execution order.
void attention_block(const ModelConfig& m, const Scenario& s, const Shape& x, OpList& out);
void linear_attention_block(const ModelConfig& m, const Scenario& s, const Shape& x, OpList& out);
// The MLPs: dense ones in the layers that have them, then the MoE layers' router, routed and shared experts.
void mlp_block(const ModelConfig& m, const Scenario& s, const Shape& x, OpList& out);

}  // namespace opmodel::detail
