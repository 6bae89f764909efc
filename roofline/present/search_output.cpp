#include "roofline/present/search_output.hpp"

#include <fmt/format.h>

#include "reports/csv.hpp"
#include "reports/table.hpp"
#include "reports/units.hpp"

namespace roofline {

namespace {

using json = nlohmann::json;
using reports::duration;
using reports::si;
using search::Candidate;

std::string per_s(double v) { return fmt::format("{:.1f}", v); }

std::string problem_text(const search::Problem& p) {
  return fmt::format(
      "{} on {} x {} ({}); workload: {}\ntargets: TTFT p90 <= {}, TPOT p90 <= {} (tokens/s per user >= {:.1f}); op "
      "times: {}; KV link for disaggregated pools: {} at {} per device, latency {}\n",
      p.model.name, p.gpus, p.hw.name, p.hw.description, p.workload.description, duration(p.targets.ttft_p90_s),
      duration(p.targets.tpot_p90_s), 1 / p.targets.tpot_p90_s,
      p.calibrated ? "expected (the profile's efficiency figures or calibration)" : "roofline bound", p.link.name,
      si(p.link.bytes_per_s, "B/s"), duration(p.link.latency_s));
}

std::string counts_text(const search::SearchResult& r) {
  return fmt::format(
      "candidates: {} ({} simulated, {} the same run as a smaller max_batch whose batch never filled, {} stopped "
      "once their TTFT p90 was sure to miss the target, {} rejected for memory before any step, {} not applicable) on "
      "{} thread{}; {} meet both targets\n",
      r.candidates.size(), r.simulated, r.reused, r.late, r.memory, r.unsupported, r.threads,
      r.threads == 1 ? "" : "s", r.meeting);
}

std::string metrics_text(const Candidate& c) {
  return fmt::format("{:.1f} output tokens/s per GPU ({} GPUs), {:.1f} tokens/s per user (TPOT p90 {}), TTFT p90 {}, "
                     "E2E p90 {}, peak memory per device {}",
                     c.tokens_per_s_per_gpu, c.deployment.gpus(), c.tokens_per_s_per_user, duration(c.tpot_p90_s),
                     duration(c.ttft_p90_s), duration(c.e2e_p90_s), si(c.peak_memory_bytes, "B"));
}

std::string meets_text(const Candidate& c) {
  if (c.meets()) return "yes";
  if (!c.meets_ttft && !c.meets_tpot) return "no: both";
  return !c.meets_ttft ? "no: TTFT" : "no: TPOT";
}

reports::Table frontier_table(const SearchRun& run, std::size_t limit) {
  reports::Table t({{"deployment", reports::Align::left},
                    {"GPUs"},
                    {"tok/s/GPU"},
                    {"tok/s/user"},
                    {"TTFT p90"},
                    {"TPOT p90"},
                    {"meets", reports::Align::left}});
  const auto& f = run.result.frontier;
  // Evenly spaced rows when the frontier is longer than the limit (its two ends always shown).
  const std::size_t n = f.size(), shown = std::min(n, std::max<std::size_t>(limit, 2));
  for (std::size_t k = 0; k < shown; ++k) {
    const std::size_t at = shown == 1 ? 0 : k * (n - 1) / (shown - 1);
    const Candidate& c = run.result.candidates[f[at]];
    const bool chosen = run.result.best && *run.result.best == f[at];
    t.add_row({(chosen ? "* " : "") + search::describe(c.deployment), std::to_string(c.deployment.gpus()),
               per_s(c.tokens_per_s_per_gpu), per_s(c.tokens_per_s_per_user), duration(c.ttft_p90_s),
               duration(c.tpot_p90_s), meets_text(c)});
  }
  return t;
}

reports::Table neighbour_table(const SearchRun& run) {
  reports::Table t({{"changed", reports::Align::left}, {"deployment", reports::Align::left}, {"why not", reports::Align::left}});
  for (const search::Neighbour& n : run.result.neighbours)
    t.add_row({fmt::format("{}", fmt::join(n.knobs, ",")), search::describe(run.result.candidates[n.index].deployment),
               n.why});
  return t;
}

json candidate_json(const Candidate& c, std::size_t index) {
  const search::Deployment& d = c.deployment;
  auto pool = [](const search::Pool& p) {
    return json{{"tp", p.tp}, {"pp", p.pp}, {"instances", p.instances}, {"ep", p.ep}, {"dp_attention", p.dp_attention}};
  };
  json j = {{"index", index},
            {"deployment", search::describe(d)},
            {"mode", d.disaggregated ? "disaggregated" : "aggregated"},
            {d.disaggregated ? "prefill" : "replicas", pool(d.serve)},
            {"max_batch", d.max_batch},
            {"max_tokens", d.max_tokens},
            {"weights", d.weights},
            {"kv", opmodel::to_string(d.kv)},
            {"speculation", d.speculate},
            {"gpus", d.gpus()},
            {"status", search::to_string(c.status)}};
  if (d.disaggregated) j["decode"] = pool(d.decode);
  if (!c.reason.empty()) j["reason"] = c.reason;
  if (c.same_as >= 0) j["same_run_as"] = c.same_as;
  if (c.has_metrics()) {
    j["ttft_p90_s"] = c.ttft_p90_s;
    j["tpot_p90_s"] = c.tpot_p90_s;
    j["e2e_p90_s"] = c.e2e_p90_s;
    j["output_tokens_per_s"] = c.output_tokens_per_s;
    j["tokens_per_s_per_gpu"] = c.tokens_per_s_per_gpu;
    j["tokens_per_s_per_user"] = c.tokens_per_s_per_user;
    j["peak_memory_bytes_per_device"] = c.peak_memory_bytes;
    j["meets_ttft"] = c.meets_ttft;
    j["meets_tpot"] = c.meets_tpot;
    j["on_frontier"] = c.on_frontier;
  }
  return j;
}

}  // namespace

std::string render_table(const SearchRun& run) {
  const search::SearchResult& r = run.result;
  std::string out = problem_text(run.problem) + counts_text(r) + "\n";
  if (r.best) {
    const Candidate& c = r.candidates[*r.best];
    out += fmt::format("choice: {}\n  {}\n  of the {} deployments meeting both targets, the fastest per user among "
                       "those within {:.0f}% of the most output tokens/s per GPU{}\n",
                       search::describe(c.deployment), metrics_text(c), r.meeting, 100 * search::kThroughputTie,
                       c.on_frontier ? " (on the frontier)" : "");
  } else if (r.closest) {
    const Candidate& c = r.candidates[*r.closest];
    out += fmt::format("no deployment meets both targets; the closest (the lowest TPOT p90 among those meeting the TTFT "
                       "target):\n  {}\n  {}\n",
                       search::describe(c.deployment), metrics_text(c));
  } else {
    out += "no deployment meets the TTFT target (the CSV and JSON say why each failed)\n";
  }
  out += fmt::format("\nPareto frontier of the deployments meeting the TTFT target, {} points (output tokens/s per GPU "
                     "against tokens/s per user = 1 / TPOT p90; a point is on it when no other is at least as fast per "
                     "user and per GPU; * the choice):\n",
                     r.frontier.size());
  out += frontier_table(run, run.shown).render();
  if (!r.neighbours.empty()) {
    out += fmt::format("\nneighbours of the {} (one knob changed), and why each lost:\n",
                       r.best ? "choice" : "closest");
    out += neighbour_table(run).render();
  }
  return out;
}

json to_json(const SearchRun& run) {
  const search::Problem& p = run.problem;
  const search::SearchResult& r = run.result;
  json j;
  j["model"] = p.model.name;
  j["hardware"] = {{"name", p.hw.name}, {"description", p.hw.description}};
  j["gpus"] = p.gpus;
  j["workload"] = {{"description", p.workload.description}, {"requests", p.workload.requests.size()}, {"seed", p.seed}};
  j["targets"] = {{"ttft_p90_s", p.targets.ttft_p90_s}, {"tpot_p90_s", p.targets.tpot_p90_s}};
  j["time_model"] = p.calibrated ? "calibrated" : "bound";
  j["kv_link"] = {{"name", p.link.name}, {"bytes_per_s", p.link.bytes_per_s}, {"latency_s", p.link.latency_s}};
  j["counts"] = {{"candidates", r.candidates.size()}, {"simulated", r.simulated}, {"reused", r.reused}, {"late", r.late},
                 {"memory", r.memory},          {"unsupported", r.unsupported}, {"meeting", r.meeting},
                 {"threads", r.threads}};
  j["best"] = r.best ? json(*r.best) : json(nullptr);
  j["closest"] = r.closest ? json(*r.closest) : json(nullptr);
  j["frontier"] = r.frontier;
  json neighbours = json::array();
  for (const search::Neighbour& n : r.neighbours) neighbours.push_back({{"index", n.index}, {"changed", n.knobs}, {"why", n.why}});
  j["neighbours"] = neighbours;
  json all = json::array();
  for (std::size_t i = 0; i < r.candidates.size(); ++i) all.push_back(candidate_json(r.candidates[i], i));
  j["candidates"] = all;
  return j;
}

std::string to_csv(const SearchRun& run) {
  std::string out = reports::csv_row({"index", "deployment", "mode", "gpus", "tp", "pp", "instances", "ep", "dp_attention",
                                      "decode_tp", "decode_instances", "max_batch", "max_tokens", "weights", "kv",
                                      "speculation", "status", "same_run_as", "ttft_p90_s", "tpot_p90_s", "e2e_p90_s",
                                      "tokens_per_s_per_gpu", "tokens_per_s_per_user", "meets_targets", "on_frontier",
                                      "reason"});
  const auto& cs = run.result.candidates;
  auto num = [](double v) { return fmt::format("{:.6g}", v); };
  for (std::size_t i = 0; i < cs.size(); ++i) {
    const Candidate& c = cs[i];
    const search::Deployment& d = c.deployment;
    const bool m = c.has_metrics();
    out += reports::csv_row(
        {std::to_string(i), search::describe(d), std::string(d.disaggregated ? "disaggregated" : "aggregated"),
         std::to_string(d.gpus()), std::to_string(d.serve.tp), std::to_string(d.serve.pp),
         std::to_string(d.serve.instances), std::to_string(d.serve.ep), std::string(d.serve.dp_attention ? "1" : "0"),
         d.disaggregated ? std::to_string(d.decode.tp) : std::string(),
         d.disaggregated ? std::to_string(d.decode.instances) : std::string(),
         std::to_string(d.max_batch), std::to_string(d.max_tokens), d.weights, std::string(opmodel::to_string(d.kv)),
         std::string(d.speculate ? "1" : "0"), std::string(search::to_string(c.status)),
         c.same_as >= 0 ? std::to_string(c.same_as) : std::string(), m ? num(c.ttft_p90_s) : std::string(),
         m ? num(c.tpot_p90_s) : std::string(), m ? num(c.e2e_p90_s) : std::string(),
         m ? num(c.tokens_per_s_per_gpu) : std::string(), m ? num(c.tokens_per_s_per_user) : std::string(),
         m ? std::string(c.meets() ? "1" : "0") : std::string(), std::string(c.on_frontier ? "1" : "0"), c.reason});
  }
  return out;
}

reports::XYChart pareto_chart(const SearchRun& run) {
  const search::SearchResult& r = run.result;
  reports::XYChart c;
  c.title = fmt::format("{} on {} x {}: deployments", run.problem.model.name, run.problem.gpus, run.problem.hw.name);
  c.x_label = "tokens/s per user (1 / TPOT p90)";
  c.y_label = "output tokens/s per GPU";
  reports::XYSeries meets{"meets both targets", {}, false, true, "#2ca02c", false};
  reports::XYSeries misses_tpot{"misses the TPOT target only", {}, false, true, "#1f77b4", false};
  reports::XYSeries misses_ttft{"misses the TTFT target", {}, false, true, "#aaaaaa", false};
  reports::XYSeries frontier{"Pareto frontier", {}, false, false, "#d62728", false};
  reports::XYSeries choice{"choice", {}, false, true, "#000000", true};
  for (const Candidate& cand : r.candidates) {
    if (cand.status != search::Status::simulated) continue;  // a reused run is the same point
    const std::pair<double, double> at{cand.tokens_per_s_per_user, cand.tokens_per_s_per_gpu};
    (cand.meets() ? meets : !cand.meets_ttft ? misses_ttft : misses_tpot).points.push_back(at);
  }
  for (std::size_t i : r.frontier)
    frontier.points.push_back({r.candidates[i].tokens_per_s_per_user, r.candidates[i].tokens_per_s_per_gpu});
  if (r.best) choice.points.push_back({r.candidates[*r.best].tokens_per_s_per_user, r.candidates[*r.best].tokens_per_s_per_gpu});
  for (auto* s : {&misses_ttft, &misses_tpot, &meets, &frontier, &choice})
    if (!s->points.empty()) c.series.push_back(*s);
  c.vertical.push_back({fmt::format("TPOT p90 target {}", duration(run.problem.targets.tpot_p90_s)),
                        1 / run.problem.targets.tpot_p90_s});
  return c;
}

std::vector<reports::HtmlSection> search_sections(const SearchRun& run) {
  const search::SearchResult& r = run.result;
  std::vector<reports::HtmlSection> out;
  std::string body = reports::html_paragraph(problem_text(run.problem)) + reports::html_paragraph(counts_text(r));
  if (r.best)
    body += reports::html_paragraph("Choice: " + search::describe(r.candidates[*r.best].deployment) + ". " +
                                    metrics_text(r.candidates[*r.best]) + ".");
  else if (r.closest)
    body += reports::html_paragraph("No deployment meets both targets; the closest: " +
                                    search::describe(r.candidates[*r.closest].deployment) + ". " +
                                    metrics_text(r.candidates[*r.closest]) + ".");
  out.push_back({"search", "Search", body});
  const reports::XYChart chart = pareto_chart(run);
  if (!chart.series.empty()) {
    out.push_back({"search-frontier", "Pareto frontier",
                   reports::html_figure(reports::inline_svg(reports::render_svg(chart), "pareto", chart.title),
                                        "Every simulated deployment; the frontier joined; the choice in black; the "
                                        "dashed line is the TPOT target (right of it meets TPOT).") +
                       reports::html_table(frontier_table(run, r.frontier.size()))});
  }
  if (!r.neighbours.empty())
    out.push_back({"search-neighbours", "Neighbours of the choice", reports::html_table(neighbour_table(run))});
  return out;
}

}  // namespace roofline
