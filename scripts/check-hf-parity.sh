#!/usr/bin/env bash
# Greedy tokens of the engine (`roofline run`) against scripts/hf_reference.py, a plain-PyTorch statement of
# transformers' LlamaForCausalLM / MistralForCausalLM / Qwen2ForCausalLM / Qwen3ForCausalLM / MixtralForCausalLM /
# Qwen2MoeForCausalLM / Qwen3MoeForCausalLM / DeepseekV2ForCausalLM / DeepseekV3ForCausalLM forward pass, on random checkpoints laid out
# as save_pretrained writes them. Every case must give the same tokens for every sequence.
#   check-hf-parity.sh [ROOFLINE_BINARY] [WORK_DIR]
# Needs Debian's python3-torch (scripts/install-deps.sh --with-reference installs it).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
roofline=${1:-$here/../build/roofline/roofline}
work=${2:-$(mktemp -d)}
python=/usr/bin/python3  # Debian's interpreter, the one python3-torch installs into
reference=$here/hf_reference.py
mkdir -p "$work"
"$python" -c "import torch" 2>/dev/null || { echo "check-hf-parity: $python cannot import torch (apt-get install python3-torch)" >&2; exit 1; }

failures=0
# compare NAME REFERENCE_JSON ENGINE_JSON: one line, and both token lists where they differ.
compare() {
  "$python" - "$@" <<'EOF' || failures=$((failures + 1))
import json, sys
name, ref, eng = sys.argv[1], json.load(open(sys.argv[2])), json.load(open(sys.argv[3]))
same = ref["tokens"] == eng["tokens"]
n = sum(len(t) for t in ref["tokens"])
print(f"{'same' if same else 'DIFFERENT'}  {name}: {len(ref['tokens'])} sequence(s), {n} tokens, "
      f"smallest top-1/top-2 logit margin {ref['min_margin']:.2e}")
if not same:
    for i, (r, e) in enumerate(zip(ref["tokens"], eng["tokens"])):
        print(f"  sequence {i}\n    reference {r}\n    engine    {e}")
sys.exit(0 if same else 1)
EOF
}

# The reference runs in one Python process for every case (importing torch took about 3.4 s of each of 42 runs, most of
# this script's time): case_ and saved queue their reference jobs in $jobs (hf_reference.py batch: a line a job, its
# output file, then its arguments, tab-separated), and what the engine then checks against them in these lists.
jobs=$work/reference-jobs.tsv
: > "$jobs"
job() {  # job OUT ARG...: queue hf_reference.py ARG... with its standard output to OUT ('-': none)
  local IFS=$'\t'
  echo "$*" >> "$jobs"
}
checked_names=() checked_prompts=() checked_gens=() checked_args=()

# case NAME CONFIG_JSON MAKE_ARGS PROMPTS GEN ENGINE_ARGS [REFERENCE_ARGS]: a random checkpoint of the reference's
# (make), its greedy tokens (generate), then the engine's on the same checkpoint (after the batch, below).
case_() {
  local name=$1 config=$2 make_args=$3 prompts=$4 gen=$5 engine_args=$6 reference_args=${7:-}
  local dir=$work/$name
  rm -rf "$dir" && mkdir -p "$dir"
  echo "$config" > "$dir/config.in.json"
  # shellcheck disable=SC2086
  job - make --config "$dir/config.in.json" --out "$dir/checkpoint" $make_args
  # shellcheck disable=SC2086
  job "$dir/reference.json" generate --checkpoint "$dir/checkpoint" --prompt-ids "$prompts" --gen "$gen" $reference_args
  checked_names+=("$name") checked_prompts+=("$prompts") checked_gens+=("$gen") checked_args+=("$engine_args")
}

llama='{"model_type": "llama", "hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4,
  "num_key_value_heads": 2, "intermediate_size": 160, "vocab_size": 256, "rms_norm_eps": 1e-5,
  "rope_theta": 10000.0, "max_position_embeddings": 512, "hidden_act": "silu"}'
# Llama 3 style: tied embeddings, biases, its rope_scaling, a head_dim that is not hidden_size / heads, MHA.
llama3='{"model_type": "llama", "hidden_size": 96, "num_hidden_layers": 3, "num_attention_heads": 4,
  "num_key_value_heads": 4, "head_dim": 32, "intermediate_size": 192, "vocab_size": 300, "rms_norm_eps": 1e-6,
  "rope_theta": 10000.0, "max_position_embeddings": 1024, "tie_word_embeddings": true, "attention_bias": true,
  "mlp_bias": true, "rope_scaling": {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
  "high_freq_factor": 4.0, "original_max_position_embeddings": 32}}'
qwen2='{"model_type": "qwen2", "hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 8,
  "num_key_value_heads": 2, "intermediate_size": 128, "vocab_size": 200, "rms_norm_eps": 1e-6,
  "rope_theta": 1000000.0, "max_position_embeddings": 512, "tie_word_embeddings": true, "use_sliding_window": false}'
mistral='{"model_type": "mistral", "hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4,
  "num_key_value_heads": 1, "intermediate_size": 160, "vocab_size": 256, "rms_norm_eps": 1e-5,
  "rope_theta": 10000.0, "max_position_embeddings": 512, "sliding_window": 8}'
qwen3='{"model_type": "qwen3", "hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4,
  "num_key_value_heads": 2, "head_dim": 32, "intermediate_size": 160, "vocab_size": 256, "rms_norm_eps": 1e-6,
  "rope_theta": 1000000.0, "max_position_embeddings": 512, "tie_word_embeddings": true, "attention_bias": false}'
# Mixtral: every layer sparse, 8 experts, top-2, weights renormalized; a sliding window.
mixtral='{"model_type": "mixtral", "hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4,
  "num_key_value_heads": 2, "intermediate_size": 96, "num_local_experts": 8, "num_experts_per_tok": 2,
  "vocab_size": 256, "rms_norm_eps": 1e-5, "rope_theta": 1000000.0, "max_position_embeddings": 512,
  "sliding_window": 12}'
# Qwen3-MoE: q/k norms, 16 experts top-4 without renormalization, layer 1 dense (mlp_only_layers), layer 3 dense
# (decoder_sparse_step 2 keeps layers 1 and 3 sparse; mlp_only_layers takes layer 1 back).
qwen3_moe='{"model_type": "qwen3_moe", "hidden_size": 64, "num_hidden_layers": 4, "num_attention_heads": 4,
  "num_key_value_heads": 1, "head_dim": 16, "intermediate_size": 128, "moe_intermediate_size": 32, "num_experts": 16,
  "num_experts_per_tok": 4, "norm_topk_prob": false, "decoder_sparse_step": 2, "mlp_only_layers": [1],
  "vocab_size": 256, "rms_norm_eps": 1e-6, "rope_theta": 1000000.0, "max_position_embeddings": 512}'
# Qwen2-MoE: q/k/v biases, 8 experts top-2 unnormalized, a gated shared expert, layer 1 dense.
qwen2_moe='{"model_type": "qwen2_moe", "hidden_size": 64, "num_hidden_layers": 3, "num_attention_heads": 4,
  "num_key_value_heads": 2, "intermediate_size": 128, "moe_intermediate_size": 32, "shared_expert_intermediate_size": 96,
  "num_experts": 8, "num_experts_per_tok": 2, "norm_topk_prob": false, "decoder_sparse_step": 1, "mlp_only_layers": [1],
  "vocab_size": 256, "rms_norm_eps": 1e-6, "rope_theta": 1000000.0, "max_position_embeddings": 512,
  "use_sliding_window": false}'
# DeepSeek-V2 (V2-Lite's shape of MLA: a full q_proj): yarn RoPE with equal mscales, layer 0 dense, 8 experts
# top-2 chosen within the 2 best of 4 groups (group_limited_greedy), softmax scores scaled, 2 shared experts.
deepseek_v2='{"model_type": "deepseek_v2", "hidden_size": 64, "num_hidden_layers": 3, "num_attention_heads": 4,
  "num_key_value_heads": 4, "q_lora_rank": null, "kv_lora_rank": 32, "qk_nope_head_dim": 16, "qk_rope_head_dim": 8,
  "v_head_dim": 16, "intermediate_size": 128, "moe_intermediate_size": 32, "n_routed_experts": 8, "n_shared_experts": 2,
  "num_experts_per_tok": 2, "topk_method": "group_limited_greedy", "n_group": 4, "topk_group": 2,
  "norm_topk_prob": false, "routed_scaling_factor": 1.5, "scoring_func": "softmax", "first_k_dense_replace": 1,
  "moe_layer_freq": 1, "vocab_size": 256, "rms_norm_eps": 1e-6, "rope_theta": 10000.0, "max_position_embeddings": 512,
  "rope_scaling": {"type": "yarn", "factor": 4.0, "original_max_position_embeddings": 128, "beta_fast": 32,
  "beta_slow": 1, "mscale": 0.707, "mscale_all_dim": 0.707}, "hidden_act": "silu"}'
# DeepSeek-V3: q through q_a_proj/q_a_layernorm/q_b_proj, yarn with unequal mscales (cos and sin scaled, and the
# softmax scale), 16 experts top-4 by sigmoid with the score-correction bias within 2 of 4 groups (noaux_tc),
# renormalized and scaled, one shared expert, layer 0 dense.
deepseek_v3='{"model_type": "deepseek_v3", "hidden_size": 64, "num_hidden_layers": 3, "num_attention_heads": 4,
  "num_key_value_heads": 4, "q_lora_rank": 48, "kv_lora_rank": 32, "qk_nope_head_dim": 16, "qk_rope_head_dim": 16,
  "v_head_dim": 24, "intermediate_size": 128, "moe_intermediate_size": 32, "n_routed_experts": 16, "n_shared_experts": 1,
  "num_experts_per_tok": 4, "topk_method": "noaux_tc", "n_group": 4, "topk_group": 2, "norm_topk_prob": true,
  "routed_scaling_factor": 2.5, "scoring_func": "sigmoid", "first_k_dense_replace": 1, "vocab_size": 256,
  "rms_norm_eps": 1e-6, "rope_theta": 10000.0, "max_position_embeddings": 512, "rope_scaling": {"rope_type": "yarn",
  "factor": 8.0, "original_max_position_embeddings": 64, "beta_fast": 32, "beta_slow": 1, "mscale": 1.0,
  "mscale_all_dim": 0.8}, "hidden_act": "silu"}'
# Gemma 2: sliding layers 0 and 2 (window 6) beside global ones, query_pre_attn_scalar, both soft-caps (a score
# cap of 5 that binds: scores of random weights reach well past it), GQA, head_dim 32. Untied: with Gemma's sqrt(d)
# embedding scale, tied random embeddings make every token its own successor, which would test little.
gemma2='{"model_type": "gemma2", "hidden_size": 64, "num_hidden_layers": 3, "num_attention_heads": 4,
  "num_key_value_heads": 2, "head_dim": 32, "intermediate_size": 128, "vocab_size": 256, "rms_norm_eps": 1e-6,
  "rope_theta": 10000.0, "max_position_embeddings": 512, "sliding_window": 6, "query_pre_attn_scalar": 24,
  "attn_logit_softcapping": 5.0, "final_logit_softcapping": 30.0, "hidden_activation": "gelu_pytorch_tanh",
  "hidden_act": "gelu_pytorch_tanh", "tie_word_embeddings": false}'

long_prompt="3 14 15 92 65 35 89 79 32 38 46 26 43 38 32 79 50 28 84 19"
case_ llama-gqa-f32 "$llama" "--dtype F32" "1 2 3 4 5; 9 8" 24 ""
case_ llama-gqa-contiguous-naive "$llama" "--dtype F32 --seed 1" "$long_prompt; 7" 40 "--kv contiguous --attn naive"
case_ llama-repetition-penalty "$llama" "--dtype F32 --seed 2" "5 6 7; 8" 24 "--repetition-penalty 1.3" \
  "--repetition-penalty 1.3"
case_ llama3-tied-bias-bf16-sharded "$llama3" "--dtype BF16 --shards 3 --seed 3" "11 12 13 14 15 16 17 18 19; 4" 32 ""
case_ llama3-bf16-weights-kept-bf16 "$llama3" "--dtype BF16 --seed 3" "11 12 13; 4 5" 24 "--weight-format bf16"
case_ qwen2-f16-tied "$qwen2" "--dtype F16 --shards 2 --seed 4" "1 2 3; 150 2" 32 "--block-size 4"
case_ mistral-sliding-window "$mistral" "--dtype F32 --seed 5" "$long_prompt; 1 2" 24 ""
case_ mistral-sliding-window-naive "$mistral" "--dtype F32 --seed 5" "$long_prompt" 24 "--attn naive --kv contiguous"
case_ qwen3-qk-norm-tied "$qwen3" "--dtype F32 --seed 6" "1 2 3 4; 200 7" 24 ""
case_ mixtral-top2-window "$mixtral" "--dtype F32 --seed 7" "$long_prompt; 9 8 7" 24 ""
case_ mixtral-bf16-sharded "$mixtral" "--dtype BF16 --shards 3 --seed 8" "5 6 7 8; 1" 24 "--weight-format bf16"
case_ qwen3-moe-top4-dense-layers "$qwen3_moe" "--dtype F32 --seed 9" "$long_prompt; 3 1 4" 24 "--attn naive"
case_ qwen2-moe-shared-expert "$qwen2_moe" "--dtype BF16 --seed 10" "$long_prompt; 8 6" 24 ""
case_ deepseek-v2-mla-yarn "$deepseek_v2" "--dtype F32 --seed 12" "$long_prompt; 5 4 3" 24 ""
case_ deepseek-v2-mla-naive-decode "$deepseek_v2" "--dtype F32 --seed 12" "$long_prompt; 5 4 3" 24 "--mla naive --attn naive"
case_ deepseek-v3-mla-absorbed-prefill "$deepseek_v3" "--dtype BF16 --seed 13" "$long_prompt; 2 7" 24 "--mla absorbed"
case_ gemma2-alternating-softcap "$gemma2" "--dtype F32 --seed 14" "$long_prompt; 6 6 1" 24 ""
case_ gemma2-naive-bf16 "$gemma2" "--dtype BF16 --seed 15" "$long_prompt; 9" 24 "--attn naive --kv contiguous"
case_ deepseek-v3-mla-paged "$deepseek_v3" "--dtype BF16 --seed 13" "$long_prompt; 2 7" 24 "--block-size 4 --attn naive"

# saved NAME CONFIG SEED: the other direction, the engine's own --save-weights checkpoint of seeded random weights,
# read by the reference (compared after the batch).
saved_names=()
saved() {
  local name=$1 config=$2 seed=$3
  local dir=$work/$name
  rm -rf "$dir" && mkdir -p "$dir"
  echo "$config" > "$dir/config.json"
  "$roofline" run --model "$dir/config.json" --seed "$seed" --prompt-ids "1 2 3; 4" --gen 16 --format json \
    --save-weights "$dir/checkpoint" -o "$dir/engine.json"
  job "$dir/reference.json" generate --checkpoint "$dir/checkpoint" --prompt-ids "1 2 3; 4" --gen 16
  saved_names+=("$name")
}
saved engine-saved-random-weights "$llama" 9
# MoE: router, expert and shared-expert names as Qwen2-MoE writes them.
saved engine-saved-random-moe "$qwen2_moe" 11
# DeepSeek-V3: MLA's low-rank q, kv_a_proj_with_mqa, kv_b_proj, the router's bias and the shared experts.
saved engine-saved-random-deepseek-v3 "$deepseek_v3" 12
# Gemma 2: its four norms a layer written back as w where the engine applies 1 + w.
saved engine-saved-random-gemma2 "$gemma2" 13

# Every reference job in one process, then the engine on each case's checkpoint and the comparisons.
"$python" "$reference" batch --jobs "$jobs"
for i in "${!checked_names[@]}"; do
  name=${checked_names[$i]}
  dir=$work/$name
  # shellcheck disable=SC2086
  "$roofline" run --model "$dir/checkpoint/config.json" --weights "$dir/checkpoint" --prompt-ids "${checked_prompts[$i]}" \
    --gen "${checked_gens[$i]}" --format json -o "$dir/engine.json" ${checked_args[$i]}
  compare "$name" "$dir/reference.json" "$dir/engine.json"
done
for name in "${saved_names[@]}"; do compare "$name" "$work/$name/reference.json" "$work/$name/engine.json"; done

# control NAME CASE PYTHON_EDIT PROMPTS WHAT: the engine on case CASE's checkpoint under its config edited by
# PYTHON_EDIT (a statement on j) must part from that case's reference; WHAT says how it was changed.
control() {
  local name=$1 case_dir=$work/$2 edit=$3 prompts=$4 what=$5
  local dir=$work/$name
  rm -rf "$dir" && mkdir -p "$dir"
  "$python" -c "import json, sys; j = json.load(open(sys.argv[1])); $edit; print(json.dumps(j))" \
    "$case_dir/checkpoint/config.json" > "$dir/config.json"
  "$roofline" run --model "$dir/config.json" --weights "$case_dir/checkpoint" --prompt-ids "$prompts" --gen 24 \
    --format json -o "$dir/engine.json"
  if "$python" -c 'import json, sys; sys.exit(json.load(open(sys.argv[1]))["tokens"] != json.load(open(sys.argv[2]))["tokens"])' \
      "$case_dir/reference.json" "$dir/engine.json"; then
    echo "DIFFERENT expected: the engine $what still gave the reference's tokens" >&2
    failures=$((failures + 1))
  else
    echo "parts  control: the engine $what gives tokens that differ from the reference, as they must"
  fi
}
# Controls, so that "same" means something: routing each token to one expert instead of two, Mistral without
# its window, DeepSeek-V3 with rotate-half RoPE instead of interleaved pairs, without its group-limited biased
# choice, and without yarn must part from the reference.
control control-top1 mixtral-top2-window 'j["num_experts_per_tok"] = 1' "$long_prompt; 9 8 7" "routing top-1"
control control-no-window mistral-sliding-window 'del j["sliding_window"]' "$long_prompt; 1 2" "without its window"
control control-rope-halves deepseek-v3-mla-paged 'j["rope_interleave"] = False' "$long_prompt; 2 7" \
  "with rotate-half RoPE"
control control-greedy-routing deepseek-v3-mla-paged 'j["topk_method"] = "greedy"' "$long_prompt; 2 7" \
  "choosing experts greedily (no groups, no bias)"
control control-gemma-no-window gemma2-alternating-softcap 'del j["sliding_window"]; j["layer_types"] = ["full_attention"] * 3' \
  "$long_prompt; 6 6 1" "with every Gemma 2 layer global"
control control-gemma-no-softcap gemma2-alternating-softcap 'del j["attn_logit_softcapping"]' "$long_prompt; 6 6 1" \
  "without the score soft-cap"
control control-no-yarn deepseek-v2-mla-yarn 'del j["rope_scaling"]' "$long_prompt; 5 4 3" "without yarn"

if [ "$failures" -ne 0 ]; then
  echo "check-hf-parity: $failures case(s) differ (files in $work)" >&2
  exit 1
fi
echo "check-hf-parity: every case gives the reference's tokens"
