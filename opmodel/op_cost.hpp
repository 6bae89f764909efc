// OpCost: the work of one operator instance: FLOPs, and bytes split by what they are.
//
// Conventions (used by every formula in step_ops.cpp):
// - 1 multiply-add = 2 FLOP; an add, multiply, compare, exp, reciprocal or rsqrt = 1 FLOP.
// - Bytes are compulsory traffic: each input read once and each output written once per kernel;
//   what stays on chip inside a fused kernel is not counted.
// - Bytes are SI (1 GB = 1e9 B); int4 is 0.5 B per element.
#pragma once

#include <array>
#include <cstddef>
#include <memory>
#include <type_traits>
#include <cstdint>
#include <optional>
#include <string_view>

#include "opmodel/dtype.hpp"

namespace opmodel {

enum class OpKind {
  linear,       // a projection (GEMM, or GEMV when one token per weight row pass)
  attention,    // QK^T, SV, or the fused attention kernel
  elementwise,  // norms, RoPE, softmax, activations, residual adds
  embedding,    // a gather of embedding rows
};
std::string_view to_string(OpKind k);

// Which units execute the op: matrix (tensor cores, AMX) at the compute dtype, or the vector (SIMT/SIMD)
// units in fp32, where element-wise work runs even on 16-bit data.
enum class Unit { matrix, vector };

struct Traffic {
  double weight_read = 0;  // parameters (with quantization scales)
  double act_read = 0;     // activations read
  double act_write = 0;    // activations written
  double kv_read = 0;      // KV cache read
  double kv_write = 0;     // KV cache written
  double total() const { return weight_read + act_read + act_write + kv_read + kv_write; }
};

struct OpCost {
  std::string_view name;  // from op_names.hpp
  OpKind kind = OpKind::elementwise;
  Unit unit = Unit::vector;
  DType compute = DType::fp32;  // dtype the arithmetic runs in (fp32 for Unit::vector)
  // For block-float weights (fp8_block, mxfp4, nvfp4) compute is their format; a part with no tensor cores for it
  // runs the GEMM here instead, the weights up-converted (the activations' float dtype).
  std::optional<DType> upconvert;
  DType weights = DType::fp32;  // a linear's weight format as stored (its module's; lm_head and routers dense);
                                // attention's: the KV cache's format (what it streams)
  std::int64_t count = 1;       // instances in the step (layers, or 1 for per-step ops)
  double flops = 0;             // one instance
  Traffic bytes;                // one instance
  // A linear's output shape: groups GEMMs of gemm_m rows x gemm_n columns (groups > 1: the routed experts'
  // grouped GEMM, gemm_m rows per touched expert). What wave and tile quantization depend on; 0 for other ops.
  double gemm_m = 0, gemm_n = 0, gemm_groups = 1;
  // A fused attention kernel's prompt part, what its tile and wave quantization depend on: `sequences` prompt-like
  // sequences (their means: q new tokens after `cached` ones) over `heads` query heads of `head_dim` (the query-key
  // width: the kernel's tile depends on it), and their `share` of the op's (query, key) pairs. sequences 0: none
  // (decode-only steps, windowed layers, scores through memory). Floats: six of them keep the op small (a step
  // copies its ops), and the factor they make needs no more.
  struct PromptGeometry {
    float sequences = 0, q = 0, cached = 0, heads = 0, share = 0, head_dim = 0;
  } prompt;
};

// The ops of one step, in execution order. Fixed capacity: no allocation on the analysis path, and no
// initialisation of the slots a step does not fill (an OpList is made per analysed step; the largest list, DeepSeek
// with naive attention, has 33 ops).
class OpList {
 public:
  static constexpr std::size_t kCapacity = 48;
  OpList() {}  // the slots stay unconstructed until push
  OpList(const OpList& other) : size_(other.size_) {
    for (std::size_t i = 0; i < size_; ++i) std::construct_at(&slots_.ops[i], other.slots_.ops[i]);
  }
  OpList& operator=(const OpList& other) {
    size_ = other.size_;
    for (std::size_t i = 0; i < size_; ++i) std::construct_at(&slots_.ops[i], other.slots_.ops[i]);
    return *this;
  }
  void clear() { size_ = 0; }
  OpCost& push(const OpCost& op);  // throws std::length_error past capacity (a model with more op kinds)
  std::size_t size() const { return size_; }
  const OpCost& operator[](std::size_t i) const { return slots_.ops[i]; }
  const OpCost* begin() const { return slots_.ops; }
  const OpCost* end() const { return slots_.ops + size_; }
  const OpCost* find(std::string_view name) const;  // nullptr if absent

 private:
  static_assert(std::is_trivially_copyable_v<OpCost> && std::is_trivially_destructible_v<OpCost>);
  union Slots {
    Slots() {}  // leaves ops unconstructed
    OpCost ops[kCapacity];
  } slots_;
  std::size_t size_ = 0;
};

}  // namespace opmodel
