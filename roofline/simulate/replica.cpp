// One replica's clock: admit arrivals, let the scheduler plan a step, time it with the op model (and the
// pipeline schedule of its micro-batches), then emit tokens, finish requests and free their blocks.
#include "roofline/simulate/replica.hpp"

#include <algorithm>
#include <stdexcept>

namespace roofline::sim {

Replica::Replica(const Shared& shared, std::int32_t index, std::vector<std::int32_t> requests)
    : shared_(shared),
      index_(index),
      ids_(std::move(requests)),
      kv_(shared.kv_blocks, shared.config.block_size, shared.workload.prefix_names.size()),
      rng_(shared.config.seed * 0x9E3779B97F4A7C15ull + std::uint64_t(index) + 1) {
  seqs_.resize(ids_.size());
  for (std::size_t i = 0; i < ids_.size(); ++i) {
    seqs_[i].request = ids_[i];
    const Request& r = shared_.workload.requests[std::size_t(ids_[i])];
    seqs_[i].known = r.prompt_tokens;
    if (r.prefilled) {  // the first token came with it
      seqs_[i].known = r.prompt_tokens + 1;
      seqs_[i].generated = 1;
      seqs_[i].transferred = true;
    }
  }
}

void Replica::run() {
  const auto& reqs = shared_.workload.requests;
  auto arrival = [&](std::size_t i) { return reqs[std::size_t(ids_[i])].arrival_s; };
  std::size_t done = 0;
  while (done < ids_.size()) {
    while (next_ < ids_.size() && arrival(next_) <= now_) waiting_.push_back(std::int32_t(next_++));
    if (running_.empty() && waiting_.empty()) {
      now_ = arrival(next_);  // idle until the next request
      continue;
    }
    plan_.clear();
    budget_ = shared_.max_tokens;
    step_preemptions_ = 0;
    switch (shared_.config.scheduler) {
      case Scheduler::static_batch: plan_static(); break;
      case Scheduler::continuous: plan_continuous(); break;
      case Scheduler::chunked: plan_chunked(); break;
    }
    if (plan_.empty()) {
      // Every request fits the cache alone (checked up front), so an idle server always admits one.
      if (next_ < ids_.size() && running_.empty()) {
        now_ = std::max(now_, arrival(next_));
        continue;
      }
      throw std::logic_error("simulator: a step with nothing to run");
    }

    StepRecord rec;
    rec.replica = index_;
    rec.start_s = now_;
    rec.running = std::int32_t(running_.size());
    rec.waiting = std::int32_t(waiting_.size());
    rec.preemptions = step_preemptions_;
    rec.kv_blocks_used = kv_.used();
    rec.first_slice = std::uint32_t(shared_.out.slices.size());
    for (const Entry& e : plan_) {
      (e.decode ? rec.decode_seqs : rec.prefill_seqs) += 1;
      (e.decode ? rec.decode_tokens : rec.prefill_tokens) += e.q;
      rec.context_tokens += e.kv;
    }
    rec.time_s = cost_step();
    rec.slices = std::uint32_t(shared_.out.slices.size()) - rec.first_slice;
    now_ += rec.time_s;
    const std::size_t running_before = running_.size();
    rec.emitted_tokens = finish_step(now_);
    done += running_before - running_.size();
    SimResult& out = shared_.out;
    ++out.step_count;
    out.busy_s += rec.time_s;
    out.peak_kv_blocks = std::max(out.peak_kv_blocks, rec.kv_blocks_used);
    out.kv_block_s += double(rec.kv_blocks_used) * rec.time_s;
    out.request_s += double(rec.running + rec.waiting) * rec.time_s;  // between steps nobody is in the system
    if (shared_.config.keep_steps) out.steps.push_back(rec);
    if (out.stopped) break;
    // The timeline keeps every stride-th step; at 512 points it drops every other one and doubles the stride.
    if (step_index_++ % stride_ == 0) {
      timeline_.push_back(rec);
      if (timeline_.size() == 512) {
        for (std::size_t i = 0; i < 256; ++i) timeline_[i] = timeline_[2 * i];
        timeline_.resize(256);
        stride_ *= 2;
      }
    }
  }
  shared_.out.timeline.insert(shared_.out.timeline.end(), timeline_.begin(), timeline_.end());
  shared_.out.prefix_evictions += kv_.evictions();
}

int Replica::assign_microbatches() {
  const int P = shared_.target.layout().pp;
  const int wanted = shared_.config.microbatches > 0 ? shared_.config.microbatches : P;
  const int M = P > 1 ? int(std::min<std::size_t>(std::size_t(wanted), plan_.size())) : 1;
  if (M == 1) {  // one micro-batch: every sequence in it
    mb_of_.assign(plan_.size(), 0);
    mb_tokens_.assign(1, 0.0);
    for (const Entry& e : plan_) mb_tokens_[0] += double(e.q);
    return 1;
  }
  // Each sequence to the micro-batch with the fewest tokens so far.
  mb_of_.resize(plan_.size());
  mb_tokens_.assign(std::size_t(M), 0.0);
  for (std::size_t i = 0; i < plan_.size(); ++i) {
    const auto m = std::size_t(std::min_element(mb_tokens_.begin(), mb_tokens_.end()) - mb_tokens_.begin());
    mb_of_[i] = std::int32_t(m);
    mb_tokens_[m] += double(plan_[i].q);
  }
  return M;
}

// Runs of identical sequences (a static batch) are one shape, as analyze sees them.
template <class Include, class SeqShape>
opmodel::BatchShape Replica::shape_of(Include include, SeqShape seq_shape, const opmodel::ModelConfig& model) const {
  opmodel::BatchShape b;
  opmodel::SequenceShape run{0, 0, 0, 0};
  for (std::size_t i = 0; i < plan_.size(); ++i) {
    if (!include(i)) continue;
    const opmodel::SequenceShape s = seq_shape(plan_[i]);
    if (run.count > 0 && run.q_len == s.q_len && run.kv_len == s.kv_len && run.logit_rows == s.logit_rows) {
      ++run.count;
      continue;
    }
    if (run.count > 0) b.add(run, model);
    run = s;
  }
  if (run.count > 0) b.add(run, model);
  return b;
}

// Speculative decoding (pp = 1): the draft model's passes run first. Pass 0 takes the prompt chunks (the
// draft caches them too) and each drafting sequence's last token; pass j drafts token j + 1.
double Replica::draft_time_s() {
  if (!shared_.draft) return 0;
  double draft_s = 0;
  const opmodel::ModelConfig& model = shared_.draft->layout().shard;
  std::int32_t passes = 0;
  for (const Entry& e : plan_) passes = std::max(passes, e.drafts < 0 ? 1 : e.drafts);
  for (std::int32_t j = 0; j < passes; ++j) {
    const opmodel::BatchShape b = shape_of(
        [&](std::size_t i) { return plan_[i].drafts > j || (j == 0 && plan_[i].drafts < 0); },
        [&](const Entry& e) {
          return e.drafts < 0 ? opmodel::SequenceShape{1, e.q, e.kv, 0} : opmodel::SequenceShape{1, 1, e.kv + j, 1};
        },
        model);
    if (b.tokens == 0) continue;
    double t = 0;
    shared_.draft->stage_times(b, &t, nullptr);
    draft_s += t;
  }
  shared_.out.time_by_op.draft_s += draft_s;
  return draft_s;
}

// Forward pipeline: micro-batch m enters stage s once it has left stage s - 1 (and been sent) and stage s
// has finished micro-batch m - 1.
double Replica::pipeline_makespan(int M, double start_s) {
  const int P = shared_.target.layout().pp;
  const bool keep = shared_.config.keep_steps;
  if (start_s > 0 && keep) shared_.out.slices.push_back({0, start_s, 0, 0, true});
  stage_free_.assign(std::size_t(P), start_s);
  double busy = 0;
  for (int m = 0; m < M; ++m) {
    double ready = start_s;
    for (int s = 0; s < P; ++s) {
      const double t = stage_s_[std::size_t(m * P + s)];
      const double start = std::max(stage_free_[std::size_t(s)], ready);
      stage_free_[std::size_t(s)] = start + t;
      busy += t;
      if (keep) shared_.out.slices.push_back({start, t, std::int16_t(s), std::int16_t(m), false});
      if (s + 1 < P) {
        const double send = shared_.target.send_s(mb_tokens_[std::size_t(m)]);
        shared_.out.time_by_op.send_s += send;
        ready = start + t + send;
      }
    }
  }
  const double makespan = stage_free_[std::size_t(P - 1)];
  shared_.out.bubble_s += double(P) * (makespan - start_s) - busy;  // stage time idle within the step
  return makespan;
}

double Replica::cost_step() {
  const StepCost& target = shared_.target;
  const int P = target.layout().pp;
  const int M = assign_microbatches();
  const double draft_s = draft_time_s();
  stage_s_.resize(std::size_t(M * P));
  const opmodel::ModelConfig& model = target.layout().shard;
  auto target_shape = [](const Entry& e) { return opmodel::SequenceShape{1, e.q, e.kv, e.logits}; };
  if (const int R = target.layout().attention_ranks(); R > 1) {
    // DP attention (pp = 1): each sequence stays on one rank, dealt round robin by its place in the replica.
    const opmodel::BatchShape global = shape_of([](std::size_t) { return true; }, target_shape, model);
    rank_shapes_.resize(std::size_t(R));
    for (int r = 0; r < R; ++r)
      rank_shapes_[std::size_t(r)] =
          shape_of([&](std::size_t i) { return plan_[i].seq % R == r; }, target_shape, model);
    stage_s_[0] = target.split_step_s(rank_shapes_, global, &shared_.out.time_by_op);
    return pipeline_makespan(M, draft_s);
  }
  for (int m = 0; m < M; ++m) {
    const opmodel::BatchShape b = shape_of([&](std::size_t i) { return mb_of_[i] == m; }, target_shape, model);
    target.stage_times(b, &stage_s_[std::size_t(m * P)], &shared_.out.time_by_op);
  }
  return pipeline_makespan(M, draft_s);
}

std::int64_t Replica::finish_step(double end_s) {
  const auto& spec = shared_.config.speculation;
  std::int64_t emitted = 0;
  for (const Entry& e : plan_) {
    Seq& s = seqs_[std::size_t(e.seq)];
    s.planned = false;
    shared_.out.computed_tokens += e.q;
    if (e.drafts >= 0) {
      // Drafts are accepted one after another, each with probability alpha, until the first rejection;
      // the target's own token follows the accepted ones.
      std::int64_t accepted = 0;
      while (accepted < e.drafts && rng_.uniform() < spec->accept_rate) ++accepted;
      const std::int64_t n = accepted + 1;
      s.computed += n;
      s.generated += n;
      s.known += n;
      // The rejected positions' blocks go back (static batching keeps what it held for the whole request).
      const std::int64_t keep = std::max<std::int64_t>(0, kv_.blocks_for(s.computed) - s.shared_blocks);
      if (s.own_blocks > keep && shared_.config.scheduler != Scheduler::static_batch) {
        kv_.release(s.own_blocks - keep);
        s.own_blocks = keep;
      }
      ++shared_.out.spec_steps;
      shared_.out.spec_tokens += n;
      emitted += n;
    } else {
      s.computed += e.q;
      if (s.computed == s.known) {  // the logits of the last known token give the next one
        ++s.generated;
        ++s.known;
        ++emitted;
        if (s.first_token_s < 0) {
          s.first_token_s = end_s;
          const auto& limit = shared_.config.stop_when_ttft_p90_above_s;
          if (limit && end_s - request(s).arrival_s > *limit &&
              ++shared_.out.late_first_tokens >= shared_.late_to_stop)
            shared_.out.stopped = true;
        }
      }
    }
    // The first request to compute a shared prefix leaves it in the cache for the others.
    const Request& r = request(s);
    const std::int64_t pb = shared_.config.prefix_caching ? prefix_blocks(s) : 0;
    if (pb > 0 && !s.uses_prefix && s.computed >= pb * kv_.block_size() && !kv_.cached(r.prefix)) {
      kv_.insert(r.prefix, pb);
      s.own_blocks -= pb;
      s.shared_blocks = pb;
      s.uses_prefix = true;
    }
    if (s.generated >= r.output_tokens) {
      release(s);
      RequestOutcome& o = shared_.out.requests[std::size_t(s.request)];
      o.arrival_s = r.arrival_s;
      o.first_token_s = s.first_token_s;
      o.finish_s = end_s;
      o.prompt_tokens = r.prompt_tokens;
      o.output_tokens = r.output_tokens;
      o.replica = index_;
    }
  }
  std::erase_if(running_, [&](std::int32_t id) {
    const Seq& s = seqs_[std::size_t(id)];
    return s.generated >= request(s).output_tokens;
  });
  return emitted;
}

}  // namespace roofline::sim
