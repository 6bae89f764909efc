// One replica of the server (internal to the simulator): its requests, KV cache, scheduler and clock.
#pragma once

#include <cstdint>
#include <deque>
#include <vector>

#include "roofline/simulate/simulator.hpp"
#include "roofline/simulate/kv_blocks.hpp"
#include "roofline/simulate/random.hpp"

namespace roofline::sim {

// What every replica shares: the configuration, the cost models, and the result it writes into.
struct Shared {
  const SimConfig& config;
  const Workload& workload;
  const StepCost& target;
  const StepCost* draft;  // with speculative decoding
  std::int64_t kv_blocks;
  std::int64_t max_tokens;
  SimResult& out;
  std::int64_t late_to_stop;  // late first tokens that end the run (the early stop; else never)
};

class Replica {
 public:
  Replica(const Shared& shared, std::int32_t index, std::vector<std::int32_t> requests);
  void run();  // until every request has finished

 private:
  struct Seq {
    std::int32_t request = 0;  // index in the workload
    std::int64_t known = 0;    // tokens known: the prompt and the tokens generated so far
    std::int64_t computed = 0;  // tokens whose K and V are cached (a cached prefix included)
    std::int64_t generated = 0;
    std::int64_t shared_blocks = 0;  // of the cached prefix it uses
    std::int64_t own_blocks = 0;
    bool uses_prefix = false;
    bool planned = false;  // in this step's plan
    bool transferred = false;  // a prefilled request whose KV is loaded at admission (not yet admitted)
    double first_token_s = -1;
  };
  // One sequence's part of a step: q tokens after kv cached; drafts >= 0 for a speculative decode.
  struct Entry {
    std::int32_t seq = 0;
    std::int64_t q = 0, kv = 0, logits = 0;
    std::int32_t drafts = -1;
    bool decode = false;  // a decode (else a prompt chunk, or a recomputation)
  };

  const Request& request(const Seq& s) const { return shared_.workload.requests[std::size_t(s.request)]; }
  bool decoding(const Seq& s) const { return s.generated > 0 && s.known - s.computed == 1; }
  std::int64_t prefix_blocks(const Seq& s) const;
  std::int64_t decode_tokens(const Seq& s) const;  // 1, or drafts + 1 when speculating

  // Scheduling (schedulers.cpp).
  void plan_static();
  void plan_continuous();
  void plan_chunked();
  // Admits the waiting queue's head, holding blocks for the tokens its scheduler needs; false if they are
  // not free. `budget`: tokens left in the step (chunked prefill).
  bool admit_head(std::int64_t budget);
  // Whether another sequence may run (fewer than max_batch); notes in the result when max_batch keeps a waiting
  // request out.
  bool below_max_batch();
  bool hold(Seq& s, std::int64_t tokens);  // blocks for `tokens` cached tokens; false (nothing taken) if short
  // Holds blocks for a running sequence, preempting the newest running ones while short; false if `s`
  // itself was preempted.
  bool hold_or_preempt(std::int32_t s, std::int64_t tokens);
  void preempt(std::int32_t s, std::int64_t needed);
  void plan_chunk(std::int32_t s, std::int64_t q);  // adds q tokens of its prompt (or of a recomputation)
  void plan_decode(std::int32_t s);                 // adds a decode: 1 token, or drafts + 1 when speculating

  // The step (replica.cpp).
  double cost_step();  // the step's time; records its slices
  int assign_microbatches();  // deals plan_ into micro-batches (mb_of_, mb_tokens_); returns how many
  // The batch shape of the plan's entries for which include(i) holds, each entry's shape from seq_shape.
  template <class Include, class SeqShape>
  opmodel::BatchShape shape_of(Include include, SeqShape seq_shape, const opmodel::ModelConfig& model) const;
  double draft_time_s();  // speculative decoding's draft passes before the target's step (0 without)
  double pipeline_makespan(int microbatches, double start_s);  // stage_s_ through the stages; records slices
  std::int64_t finish_step(double end_s);  // emits tokens, finishes requests; returns the tokens emitted
  void release(Seq& s);

  Shared shared_;
  std::int32_t index_;
  std::vector<std::int32_t> ids_;  // workload indices of this replica's requests, by arrival
  std::vector<Seq> seqs_;          // one per request of ids_
  std::size_t next_ = 0;           // next arrival in ids_
  std::deque<std::int32_t> waiting_;    // arrived, not admitted; preempted ones in front
  std::vector<std::int32_t> running_;   // admitted, by arrival (the newest last)
  KvCache kv_;
  Rng rng_;
  double now_ = 0;
  std::int64_t budget_ = 0;        // tokens left in the step being planned
  std::int32_t step_preemptions_ = 0;
  std::vector<Entry> plan_;
  // Scratch for cost_step, kept to avoid allocating per step.
  std::vector<std::int32_t> mb_of_;
  std::vector<double> mb_tokens_, stage_s_, stage_free_;
  std::vector<opmodel::BatchShape> rank_shapes_;  // DP attention: each rank's share of the step
  std::vector<StepRecord> timeline_;  // every stride_-th step
  std::int64_t stride_ = 1, step_index_ = 0;
};

}  // namespace roofline::sim
