#include "roofline/search/search.hpp"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "hardware/error.hpp"
#include "opmodel/error.hpp"
#include "reports/units.hpp"
#include "roofline/simulate/error.hpp"
#include "roofline/simulate/summary.hpp"

namespace roofline::search {

std::string_view to_string(Status s) {
  switch (s) {
    case Status::simulated: return "simulated";
    case Status::reused: return "reused";
    case Status::late: return "late";
    case Status::memory: return "memory";
    case Status::unsupported: return "unsupported";
  }
  return "?";
}

sim::SimConfig pool_config(const Problem& p, const Deployment& d, const Pool& pool) {
  sim::SimConfig c;
  c.scenario = p.scenario;
  if (d.weights != "checkpoint") {  // one format for every projection, as --wdtype gives it
    c.scenario.weight_dtype = *opmodel::parse_dtype(d.weights);
    c.scenario.modules = {};
    // FP8 checkpoints are served W8A8 (TensorRT-LLM, vLLM): the GEMMs run at fp8 where the part has fp8 peaks.
    const bool fp8 = c.scenario.weight_dtype == opmodel::DType::fp8 || c.scenario.weight_dtype == opmodel::DType::fp8_block;
    if (fp8 && p.hw.peak(hardware::Precision::fp8)) c.scenario.act_dtype = opmodel::DType::fp8;
  }
  c.scenario.kv_dtype = d.kv;
  c.scheduler = p.scheduler;
  c.max_batch = d.max_batch;
  c.max_tokens = d.max_tokens;
  c.tp = pool.tp;
  c.pp = pool.pp;
  c.replicas = pool.instances;
  c.expert.ep = pool.ep;
  c.expert.dp_attention = pool.dp_attention;
  c.calibrated = p.calibrated;
  c.seed = p.seed;
  c.keep_steps = false;
  if (d.speculate && p.draft) c.speculation = sim::Speculation{*p.draft, p.spec_tokens, p.accept_rate};
  return c;
}

namespace {

void fill_metrics(Candidate& c, const sim::Summary& s, const Targets& t, double peak_memory) {
  c.ttft_p90_s = s.ttft_s.p90;
  c.tpot_p90_s = s.tpot_s.p90;
  c.e2e_p90_s = s.e2e_s.p90;
  c.output_tokens_per_s = s.output_tokens_per_s;
  c.tokens_per_s_per_gpu = s.output_tokens_per_s / double(c.deployment.gpus());
  c.tokens_per_s_per_user = s.tpot_s.p90 > 0 ? 1 / s.tpot_s.p90 : 0;
  c.peak_memory_bytes = peak_memory;
  c.meets_ttft = s.ttft_s.p90 <= t.ttft_p90_s;
  c.meets_tpot = s.tpot_s.p90 <= t.tpot_p90_s;
}

void mark_late(Candidate& c, const Problem& p, const sim::SimResult& r) {
  c.status = Status::late;
  c.reason = fmt::format("TTFT p90 > {}: {} of {} requests got their first token later than that (stopped there)",
                         reports::duration(p.targets.ttft_p90_s), r.late_first_tokens, p.workload.requests.size());
}

// Simulates one candidate; returns whether its run could be reused for a larger max_batch.
bool evaluate(const Problem& p, Candidate& c, bool stop_early) {
  const Deployment& d = c.deployment;
  try {
    sim::SimConfig serve = pool_config(p, d, d.serve);
    if (stop_early) serve.stop_when_ttft_p90_above_s = p.targets.ttft_p90_s;
    if (!d.disaggregated) {
      const sim::SimResult r = sim::simulate(p.model, p.hw, p.workload, serve);
      if (r.stopped) {
        mark_late(c, p, r);
        return false;
      }
      const sim::Summary s = sim::summarize(r);
      fill_metrics(c, s, p.targets, s.peak_memory_bytes);
      return !r.batch_capped && r.memory.state_bytes == 0;
    }
    sim::DisaggConfig dc{serve, pool_config(p, d, d.decode), p.link};
    dc.prefill.speculation.reset();  // the draft runs in the decode pool
    const sim::DisaggResult r = sim::simulate_disaggregated(p.model, p.hw, p.workload, dc);
    if (r.prefill.stopped) {
      mark_late(c, p, r.prefill);
      return false;
    }
    const sim::Summary s = sim::summarize_requests(r.requests);
    double peak = r.prefill.memory.device_bytes(r.prefill.peak_kv_blocks);  // the fuller pool's device
    if (!r.decode.requests.empty()) peak = std::max(peak, r.decode.memory.device_bytes(r.decode.peak_kv_blocks));
    fill_metrics(c, s, p.targets, peak);
    return !r.prefill.batch_capped && !r.decode.batch_capped && r.prefill.memory.state_bytes == 0 &&
           r.decode.memory.state_bytes == 0;
  } catch (const sim::MemoryError& e) {
    c.status = Status::memory;
    c.reason = e.problem();
  } catch (const sim::OptionError& e) {
    c.status = Status::unsupported;
    c.reason = fmt::format("--{}: {}", e.option(), e.problem());
  } catch (const hardware::ProfileError& e) {  // a precision the part has no peak for
    c.status = Status::unsupported;
    c.reason = e.what();
  }
  return false;
}

// Candidates that differ only in max_batch, ascending: runs of the enumeration.
bool same_but_batch(const Deployment& a, const Deployment& b) {
  Deployment x = a;
  x.max_batch = b.max_batch;
  return x == b && a.max_batch < b.max_batch;
}

void mark_frontier(SearchResult& r) {
  std::vector<std::size_t> order;
  for (std::size_t i = 0; i < r.candidates.size(); ++i)
    if (r.candidates[i].has_metrics() && r.candidates[i].meets_ttft) order.push_back(i);
  // By tokens/s per user descending (then per GPU descending, then enumeration order): a point is on the
  // frontier when it has more tokens/s per GPU than every point at least as fast per user.
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    const Candidate &x = r.candidates[a], &y = r.candidates[b];
    if (x.tokens_per_s_per_user != y.tokens_per_s_per_user) return x.tokens_per_s_per_user > y.tokens_per_s_per_user;
    return x.tokens_per_s_per_gpu > y.tokens_per_s_per_gpu;
  });
  double best_gpu = -1;
  for (std::size_t i : order) {
    Candidate& c = r.candidates[i];
    if (c.tokens_per_s_per_gpu > best_gpu) {
      best_gpu = c.tokens_per_s_per_gpu;
      c.on_frontier = true;
      r.frontier.push_back(i);
    }
  }
  std::reverse(r.frontier.begin(), r.frontier.end());
}

void choose(SearchResult& r) {
  double most = 0;  // tokens/s per GPU of the best meeting both targets
  for (std::size_t i = 0; i < r.candidates.size(); ++i) {
    const Candidate& c = r.candidates[i];
    if (c.meets()) {
      ++r.meeting;
      most = std::max(most, c.tokens_per_s_per_gpu);
    } else if (c.has_metrics() && c.meets_ttft && (!r.closest || c.tpot_p90_s < r.candidates[*r.closest].tpot_p90_s)) {
      r.closest = i;
    }
  }
  // Under a fixed request rate every deployment that keeps up delivers the same throughput: among those within
  // kThroughputTie of the most, the fastest per user wins, then the fewest GPUs, then the first.
  auto better = [&](std::size_t a, std::size_t b) {  // a preferred to b
    const Candidate &x = r.candidates[a], &y = r.candidates[b];
    if (x.tokens_per_s_per_user != y.tokens_per_s_per_user) return x.tokens_per_s_per_user > y.tokens_per_s_per_user;
    if (x.deployment.gpus() != y.deployment.gpus()) return x.deployment.gpus() < y.deployment.gpus();
    return a < b;
  };
  for (std::size_t i = 0; i < r.candidates.size(); ++i) {
    const Candidate& c = r.candidates[i];
    if (c.meets() && c.tokens_per_s_per_gpu >= (1 - kThroughputTie) * most && (!r.best || better(i, *r.best)))
      r.best = i;
  }
  if (r.best) r.closest.reset();
}

std::string why_not(const Candidate& chosen, const Candidate& c, const Targets& t, bool chosen_meets) {
  using reports::duration;
  switch (c.status) {
    case Status::late: return c.reason;
    case Status::memory: return "memory: " + c.reason;
    case Status::unsupported: return "not applicable: " + c.reason;
    default: break;
  }
  std::vector<std::string> missed;
  if (!c.meets_ttft)
    missed.push_back(fmt::format("TTFT p90 {} > {}", duration(c.ttft_p90_s), duration(t.ttft_p90_s)));
  if (!c.meets_tpot)
    missed.push_back(fmt::format("TPOT p90 {} > {}", duration(c.tpot_p90_s), duration(t.tpot_p90_s)));
  if (!missed.empty()) return fmt::format("{}", fmt::join(missed, "; "));
  if (!chosen_meets) return "meets the targets";  // cannot happen: it would have been chosen
  if (c.status == Status::reused && c.deployment.max_batch > chosen.deployment.max_batch &&
      differences(chosen.deployment, c.deployment) == std::vector<std::string>{"batch"} &&
      c.tokens_per_s_per_gpu == chosen.tokens_per_s_per_gpu)
    return fmt::format("the same run as the choice: its batch of {} never filled", chosen.deployment.max_batch);
  return fmt::format("meets the targets at {:.1f} output tokens/s per GPU and {:.1f} tokens/s per user (the choice: "
                     "{:.1f} and {:.1f})",
                     c.tokens_per_s_per_gpu, c.tokens_per_s_per_user, chosen.tokens_per_s_per_gpu,
                     chosen.tokens_per_s_per_user);
}

}  // namespace

SearchResult run_search(const Problem& p, const std::vector<Deployment>& deployments, const SearchOptions& o) {
  SearchResult r;
  r.candidates.resize(deployments.size());
  for (std::size_t i = 0; i < deployments.size(); ++i) r.candidates[i].deployment = deployments[i];
  // Work units: runs of candidates that differ only in max_batch (ascending), so that one worker can carry a
  // run that never filled its batch over to the larger values.
  std::vector<std::pair<std::size_t, std::size_t>> runs;
  for (std::size_t i = 0; i < deployments.size();) {
    std::size_t j = i + 1;
    while (j < deployments.size() && same_but_batch(deployments[j - 1], deployments[j])) ++j;
    runs.push_back({i, j});
    i = j;
  }
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  r.threads = int(std::min<std::size_t>(o.threads > 0 ? std::size_t(o.threads) : cores, std::max<std::size_t>(1, runs.size())));
  std::atomic<std::size_t> next{0};
  std::exception_ptr failure;
  std::mutex failure_lock;
  auto work = [&] {
    try {
      for (std::size_t k; (k = next++) < runs.size();) {
        std::int64_t source = -1;  // a run whose batch never filled
        for (std::size_t i = runs[k].first; i < runs[k].second; ++i) {
          Candidate& c = r.candidates[i];
          if (o.prune && source >= 0) {
            const Deployment d = c.deployment;
            c = r.candidates[std::size_t(source)];
            c.deployment = d;
            c.status = Status::reused;
            c.same_as = source;
            continue;
          }
          if (evaluate(p, c, o.prune)) source = std::int64_t(i);
        }
      }
    } catch (...) {
      const std::lock_guard<std::mutex> lock(failure_lock);
      if (!failure) failure = std::current_exception();
      next = runs.size();
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < r.threads; ++t) pool.emplace_back(work);
  work();
  for (std::thread& t : pool) t.join();
  if (failure) std::rethrow_exception(failure);

  for (const Candidate& c : r.candidates) {
    switch (c.status) {
      case Status::simulated: ++r.simulated; break;
      case Status::reused: ++r.reused; break;
      case Status::late: ++r.late; break;
      case Status::memory: ++r.memory; break;
      case Status::unsupported: ++r.unsupported; break;
    }
  }
  mark_frontier(r);
  choose(r);
  if (const auto chosen = r.best ? r.best : r.closest) {
    const Candidate& ch = r.candidates[*chosen];
    // Across modes every layout differs at once: the other mode is represented by its own best (or, when none of
    // it meets both targets, its lowest TPOT among those meeting the TTFT target).
    std::optional<std::size_t> other;
    for (std::size_t i = 0; i < r.candidates.size(); ++i) {
      const Candidate& c = r.candidates[i];
      if (c.deployment.disaggregated == ch.deployment.disaggregated || !c.has_metrics() || !c.meets_ttft) continue;
      if (!other) {
        other = i;
        continue;
      }
      const Candidate& held = r.candidates[*other];
      if (c.meets() != held.meets() ? c.meets()
                                    : c.meets() ? c.tokens_per_s_per_gpu > held.tokens_per_s_per_gpu
                                                : c.tpot_p90_s < held.tpot_p90_s)
        other = i;
    }
    for (std::size_t i = 0; i < r.candidates.size(); ++i) {
      if (i == *chosen) continue;
      auto knobs = differences(ch.deployment, r.candidates[i].deployment);
      if (knobs.size() != 1 || (knobs[0] == "mode" && i != other)) continue;
      r.neighbours.push_back({i, std::move(knobs), why_not(ch, r.candidates[i], p.targets, r.best.has_value())});
    }
  }
  return r;
}

}  // namespace roofline::search
