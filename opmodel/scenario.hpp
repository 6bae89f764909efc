// Scenario: what one forward step processes, and how (dtypes, attention implementation, fusions).
// Prefill is q_len = prompt, kv_len = 0; a decode step is q_len = 1, kv_len = tokens cached so far.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "opmodel/dtype.hpp"
#include "opmodel/model_config.hpp"

namespace opmodel {

enum class AttentionImpl {
  naive,  // QK^T scores written to memory, softmax reads and writes them, SV reads them back
  flash,  // one fused kernel: scores stay on chip; Q, K, V read once, O written once
};

struct Fusion {
  bool qkv = false;       // one QKV GEMM: x read once instead of three times
  bool add_norm = false;  // residual add fused into the following RMSNorm: the sum is not re-read
  bool swiglu = false;    // gate, up and SiLU*up in one pass: gate/up outputs never reach memory
};

// MLA's execution form (DeepSeek-V2/V3). naive: kv_b_proj decompresses every attended position's latent into
// per-head K and V, then ordinary attention (as prefill kernels run it). absorbed: W_UK is folded into the query and
// W_UV into the output, and attention runs over the latent itself, one shared KV head of kv_lora_rank + rope
// values (as FlashMLA decodes). automatic: a step's decode-like sequences (decodes, speculative verification)
// absorbed, its prompt tokens naive.
enum class MlaForm { automatic, naive, absorbed };

// Weight formats per module group, overriding weight_dtype where set (a checkpoint's quantization_config, or
// --module-wdtype).
struct ModuleWeights {
  std::optional<DType> attention;  // attention projections (softmax and linear attention)
  std::optional<DType> mlp;        // dense MLPs and shared experts
  std::optional<DType> experts;    // routed experts
};

struct Scenario {
  std::int64_t batch = 1;   // B: sequences
  std::int64_t q_len = 1;   // q: new tokens per sequence this step
  std::int64_t kv_len = 0;  // k: tokens per sequence already in the KV cache before this step
  DType weight_dtype = DType::fp16;
  DType act_dtype = DType::fp16;
  DType kv_dtype = DType::fp16;
  // The dtype attention computes in, where it differs from the activations' float dtype: TensorRT-LLM's fp8
  // recipe of 2024 (gpt_attention_plugin float16) runs fp8 GEMMs beside fp16 attention. A float dtype.
  std::optional<DType> attention_dtype;
  // The dtype projections' inputs are quantized to, where it is narrower than the activations: TensorRT-LLM's fp8
  // recipe keeps the activations (residual stream, norms, attention) in fp16 and feeds its GEMMs fp8. Projections
  // compute in it and read their input at its width; their outputs stay at the activations'.
  std::optional<DType> gemm_input_dtype;
  std::int64_t group_size = 128;  // input elements per fp16 scale, for int8/int4 weights
  AttentionImpl attention = AttentionImpl::flash;
  Fusion fusion;
  bool all_logits = false;  // lm_head on every token (else only each sequence's last one)
  ModuleWeights modules;
  MlaForm mla = MlaForm::automatic;

  DType attention_weights() const { return modules.attention.value_or(weight_dtype); }
  DType mlp_weights() const { return modules.mlp.value_or(weight_dtype); }
  DType expert_weights() const { return modules.experts.value_or(weight_dtype); }
  // The float dtype of the activations (integer activations feed integer GEMMs only: fp16 elsewhere).
  DType act_float() const { return is_integer(act_dtype) ? DType::fp16 : act_dtype; }
  DType attention_compute() const { return attention_dtype.value_or(act_float()); }

  std::int64_t tokens() const { return batch * q_len; }  // T = B * q
};

std::string to_string(AttentionImpl a);
std::string to_string(const Fusion& f);  // "qkv,add_norm,swiglu", "none" when empty
// Parses a comma-separated list of qkv, add_norm, swiglu (or "none"); throws ModelError.
Fusion parse_fusion(const std::string& list);

std::string to_string(MlaForm f);
// "attention=bf16,experts=mxfp4" (groups: attention, mlp, experts); throws ModelError naming the item.
ModuleWeights parse_module_weights(const std::string& list);
// "attention bf16, mlp bf16, experts mxfp4": each group's format under s (weight_dtype where none is set).
std::string describe_weights(const Scenario& s);

// s with the formats the checkpoint declares (m.stored) in the module groups s leaves unset, and its int8/int4
// group size when `group_from_checkpoint`.
Scenario with_stored_weights(const ModelConfig& m, Scenario s, bool group_from_checkpoint);

// Checks sizes and limits; throws ModelError("scenario", field, ...).
void validate(const Scenario& s);

}  // namespace opmodel
