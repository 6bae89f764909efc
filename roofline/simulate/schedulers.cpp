// The three schedulers, and what they share: admission with prefix-cache lookup, block holding,
// preemption by recomputation (newest request first, as vLLM does).
#include <algorithm>
#include <stdexcept>

#include "roofline/simulate/replica.hpp"

namespace roofline::sim {

std::int64_t Replica::prefix_blocks(const Seq& s) const {
  const Request& r = request(s);
  // Only whole blocks are shared: a partly filled last block belongs to each request.
  return r.prefix >= 0 ? r.prefix_tokens / kv_.block_size() : 0;
}

std::int64_t Replica::decode_tokens(const Seq& s) const {
  if (!shared_.config.speculation) return 1;
  const std::int64_t left = request(s).output_tokens - s.generated;  // tokens still to emit, >= 1
  // Drafting more than left - 1 tokens is wasted: the verification emits one more than it accepts.
  return std::min(shared_.config.speculation->tokens, left - 1) + 1;
}

bool Replica::hold(Seq& s, std::int64_t tokens) {
  const std::int64_t need = kv_.blocks_for(tokens) - s.shared_blocks - s.own_blocks;
  if (need <= 0) return true;
  if (!kv_.allocate(need)) return false;
  s.own_blocks += need;
  return true;
}

void Replica::release(Seq& s) {
  kv_.release(s.own_blocks);
  if (s.uses_prefix) kv_.release_prefix(request(s).prefix);
  s.own_blocks = s.shared_blocks = 0;
  s.uses_prefix = false;
}

void Replica::preempt(std::int32_t victim, std::int64_t needed) {
  Seq& v = seqs_[std::size_t(victim)];
  shared_.out.preemptions.push_back(
      {now_, index_, v.request, needed, kv_.available(), kv_.total()});
  ++step_preemptions_;
  ++shared_.out.requests[std::size_t(v.request)].preemptions;
  if (v.planned) {  // already in this step: take its entry back out
    const auto it = std::find_if(plan_.begin(), plan_.end(), [&](const Entry& e) { return e.seq == victim; });
    budget_ += it->q;
    plan_.erase(it);
    v.planned = false;
  }
  release(v);
  shared_.out.lost_tokens += v.computed;  // recomputed from the prompt on readmission
  v.computed = 0;
  running_.erase(std::find(running_.begin(), running_.end(), victim));
  waiting_.push_front(victim);
}

bool Replica::hold_or_preempt(std::int32_t s, std::int64_t tokens) {
  for (;;) {
    Seq& seq = seqs_[std::size_t(s)];
    const std::int64_t need = kv_.blocks_for(tokens) - seq.shared_blocks - seq.own_blocks;
    if (hold(seq, tokens)) return true;
    const std::int32_t victim = running_.back();  // the newest request
    preempt(victim, need);
    if (victim == s) return false;
  }
}

bool Replica::below_max_batch() {
  if (std::int64_t(running_.size()) < shared_.config.max_batch) return true;
  if (!waiting_.empty()) shared_.out.batch_capped = true;
  return false;
}

bool Replica::admit_head(std::int64_t budget) {
  const std::int32_t id = waiting_.front();
  Seq& s = seqs_[std::size_t(id)];
  const Request& r = request(s);
  const std::int64_t pb = shared_.config.prefix_caching ? prefix_blocks(s) : 0;
  const bool hit = pb > 0 && kv_.cached(r.prefix);
  if (hit) kv_.acquire(r.prefix);  // before allocating, so that eviction cannot take it
  s.shared_blocks = hit ? pb : 0;
  // At least one token is computed, to produce the logits of the next one. A transferred KV cache arrives
  // whole: the sequence decodes at once.
  s.computed = s.transferred ? s.known - 1 : hit ? std::min(pb * kv_.block_size(), s.known - 1) : 0;
  std::int64_t tokens = s.known;  // continuous: the whole prompt so far
  if (shared_.config.scheduler == Scheduler::static_batch)
    tokens = r.prompt_tokens + r.output_tokens - 1;  // the whole request, held from the start
  else if (shared_.config.scheduler == Scheduler::chunked)
    tokens = s.computed + std::min(s.known - s.computed, budget);
  if (!hold(s, tokens)) {
    if (hit) kv_.release_prefix(r.prefix);
    s.shared_blocks = 0;
    s.computed = 0;
    return false;
  }
  s.uses_prefix = hit;
  if (s.transferred) {
    s.transferred = false;  // a later preemption recomputes it here
    waiting_.pop_front();
    running_.insert(std::upper_bound(running_.begin(), running_.end(), id), id);
    return true;
  }
  if (pb > 0) {
    ++shared_.out.prefix_lookups;
    shared_.out.prefix_hits += hit ? 1 : 0;
  }
  shared_.out.cached_tokens += s.computed;
  shared_.out.requests[std::size_t(s.request)].cached_tokens += s.computed;
  waiting_.pop_front();
  // Running stays in arrival order (ids are by arrival), so that the newest is last.
  running_.insert(std::upper_bound(running_.begin(), running_.end(), id), id);
  return true;
}

void Replica::plan_chunk(std::int32_t id, std::int64_t q) {
  Seq& s = seqs_[std::size_t(id)];
  Entry e;
  e.seq = id;
  e.kv = s.computed;
  e.q = q;
  e.logits = s.computed + q == s.known ? 1 : 0;  // the chunk that ends the known tokens yields the next one
  s.planned = true;
  budget_ -= e.q;
  plan_.push_back(e);
}

void Replica::plan_decode(std::int32_t id) {
  Seq& s = seqs_[std::size_t(id)];
  Entry e;
  e.seq = id;
  e.kv = s.computed;
  e.q = decode_tokens(s);
  e.logits = e.q;  // speculating: each drafted position is verified, plus the one after the last
  if (shared_.config.speculation) e.drafts = std::int32_t(e.q - 1);
  e.decode = true;
  s.planned = true;
  budget_ -= e.q;
  plan_.push_back(e);
}

void Replica::plan_static() {
  if (running_.empty())  // a new batch: as many waiting requests as sequences and blocks allow
    while (!waiting_.empty() && below_max_batch() && admit_head(0)) {
    }
  // Its prompts, the budget's worth of tokens per step; then it decodes in lockstep. Blocks were held at admission.
  bool prefilling = false;
  for (std::int32_t id : running_) {
    const Seq& s = seqs_[std::size_t(id)];
    if (decoding(s)) continue;
    prefilling = true;
    if (budget_ > 0) plan_chunk(id, std::min(s.known - s.computed, budget_));
  }
  if (prefilling) return;
  for (std::int32_t id : running_) plan_decode(id);
}

void Replica::plan_continuous() {
  // Prefills first: admit whole prompts while sequences, tokens and blocks allow (the first may exceed the
  // token budget alone). A step with prefills runs nothing else.
  bool admitted = false;
  while (!waiting_.empty() && below_max_batch()) {
    const std::int32_t id = waiting_.front();
    if (admitted && seqs_[std::size_t(id)].known > budget_ && !seqs_[std::size_t(id)].transferred) break;
    if (!admit_head(0)) break;
    const Seq& s = seqs_[std::size_t(id)];
    if (decoding(s)) continue;  // its KV was transferred: it decodes with the others
    plan_chunk(id, s.known - s.computed);
    admitted = true;
  }
  if (admitted) return;
  for (std::size_t i = 0; i < running_.size(); ++i) {
    const std::int32_t id = running_[i];
    const Seq& s = seqs_[std::size_t(id)];
    if (hold_or_preempt(id, s.computed + decode_tokens(s))) plan_decode(id);
  }
}

void Replica::plan_chunked() {
  // Decodes first, oldest first, while the budget lasts.
  for (std::size_t i = 0; i < running_.size(); ++i) {
    const std::int32_t id = running_[i];
    const Seq& s = seqs_[std::size_t(id)];
    if (!decoding(s)) continue;
    const std::int64_t q = decode_tokens(s);
    if (q > budget_) break;
    if (hold_or_preempt(id, s.computed + q)) plan_decode(id);
  }
  // Then the prompts under way, then new ones, each a chunk of what the budget leaves.
  for (std::size_t i = 0; i < running_.size() && budget_ > 0; ++i) {
    const std::int32_t id = running_[i];
    const Seq& s = seqs_[std::size_t(id)];
    if (decoding(s) || s.planned) continue;
    const std::int64_t q = std::min(s.known - s.computed, budget_);
    if (hold_or_preempt(id, s.computed + q)) plan_chunk(id, q);
  }
  while (budget_ > 0 && !waiting_.empty() && below_max_batch()) {
    const std::int32_t id = waiting_.front();
    const Seq& head = seqs_[std::size_t(id)];
    if (head.transferred && decode_tokens(head) > budget_) break;  // its first decode must fit the budget
    if (!admit_head(budget_)) break;
    const Seq& s = seqs_[std::size_t(id)];
    if (decoding(s)) plan_decode(id);  // its KV was transferred
    else plan_chunk(id, std::min(s.known - s.computed, budget_));
  }
}

}  // namespace roofline::sim
