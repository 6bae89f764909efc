#include "roofline/search/space.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/json_fields.hpp"

namespace roofline::search {

std::string describe(const Pool& p) {
  std::string s = fmt::format("{}x tp{}", p.instances, p.tp);
  if (p.pp > 1) s += fmt::format(" pp{}", p.pp);
  if (p.ep > 1) s += fmt::format(" ep{}", p.ep);
  if (p.dp_attention) s += " dp-attn";
  return s;
}

std::string describe(const Deployment& d) {
  std::string s = d.disaggregated ? fmt::format("disagg {} + {}", describe(d.serve), describe(d.decode))
                                  : fmt::format("agg {}", describe(d.serve));
  s += fmt::format(" | batch {} | tokens {} | w {} | kv {}", d.max_batch, d.max_tokens, d.weights,
                   opmodel::to_string(d.kv));
  if (d.speculate) s += " | spec";
  return s;
}

std::vector<std::string> differences(const Deployment& a, const Deployment& b) {
  std::vector<std::string> out;
  if (a.disaggregated != b.disaggregated) out.push_back("mode");
  // tp, pp and the instance count move together on a fixed number of devices: one knob, the layout.
  auto pool = [&](const Pool& x, const Pool& y, const char* prefix) {
    if (x.tp != y.tp || x.pp != y.pp || x.instances != y.instances) out.push_back(fmt::format("{}layout", prefix));
    if (x.ep != y.ep || x.dp_attention != y.dp_attention) out.push_back(fmt::format("{}experts", prefix));
  };
  if (a.disaggregated == b.disaggregated) {
    pool(a.serve, b.serve, a.disaggregated ? "prefill " : "");
    if (a.disaggregated) pool(a.decode, b.decode, "decode ");
  }
  if (a.max_batch != b.max_batch) out.push_back("batch");
  if (a.max_tokens != b.max_tokens) out.push_back("tokens");
  if (a.weights != b.weights) out.push_back("weights");
  if (a.kv != b.kv) out.push_back("kv");
  if (a.speculate != b.speculate) out.push_back("speculation");
  return out;
}

namespace {

// Errors name the key as "key 'tp'".
class KeyError : public SearchError {
 public:
  KeyError(const std::string& origin, const std::string& key, const std::string& problem)
      : SearchError(origin, "key '" + key + "'", problem) {}
};
using Fields = common::JsonFields<KeyError>;

template <class T, class Read>
std::vector<T> list_of(const Fields& f, const char* key, Read read) {
  const nlohmann::json* v = f.find(key);
  if (!v) return {};
  if (!v->is_array() || v->empty()) f.fail(key, fmt::format("must be a non-empty list, got {}", v->dump()));
  std::vector<T> out;
  for (const nlohmann::json& item : *v) out.push_back(read(item));
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace

Space parse_space(const nlohmann::json& j, const std::string& origin) {
  if (!j.is_object()) throw SearchError(origin, "", "must be a JSON object");
  const Fields f{j, origin};
  static const char* const kKeys[] = {"tp",      "pp",           "max_batch",          "max_tokens",
                                      "weights", "kv",           "aggregated",         "disaggregated",
                                      "all_replica_counts", "expert_parallel", "speculation"};
  for (const auto& item : j.items()) {
    const std::string key = item.key();
    if (std::find_if(std::begin(kKeys), std::end(kKeys), [&](const char* k) { return key == k; }) == std::end(kKeys))
      f.fail(key, fmt::format("is not a search-space key (tp, pp, max_batch, max_tokens, weights, kv, aggregated, "
                              "disaggregated, all_replica_counts, expert_parallel, speculation)"));
  }
  auto bounded = [&](const char* key, std::int64_t hi) {
    return [&f, key, hi](const nlohmann::json& v) {
      const std::int64_t n = f.dim(key, v);
      if (n > hi) f.fail(key, fmt::format("must be at most {}, got {}", hi, n));
      return n;
    };
  };
  Space s;
  for (std::int64_t n : list_of<std::int64_t>(f, "tp", bounded("tp", 4096))) s.tp.push_back(int(n));
  for (std::int64_t n : list_of<std::int64_t>(f, "pp", bounded("pp", 4096))) s.pp.push_back(int(n));
  s.max_batch = list_of<std::int64_t>(f, "max_batch", bounded("max_batch", 1 << 20));
  s.max_tokens = list_of<std::int64_t>(f, "max_tokens", bounded("max_tokens", std::int64_t{1} << 24));
  auto name = [&](const char* key) {
    return [&f, key](const nlohmann::json& v) {
      if (!v.is_string()) f.fail(key, fmt::format("must list format names, got {}", v.dump()));
      return v.get<std::string>();
    };
  };
  s.weights = list_of<std::string>(f, "weights", name("weights"));
  for (const std::string& w : s.weights)
    if (w != "checkpoint" && !opmodel::parse_dtype(w))
      f.fail("weights", fmt::format("'{}' is neither checkpoint nor a format ({})", w, opmodel::kDTypeNames));
  for (const std::string& k : list_of<std::string>(f, "kv", name("kv"))) {
    const auto d = opmodel::parse_dtype(k);
    if (!d) f.fail("kv", fmt::format("'{}' is not a format ({})", k, opmodel::kDTypeNames));
    s.kv.push_back(*d);
  }
  s.aggregated = f.flag("aggregated", s.aggregated);
  s.disaggregated = f.flag("disaggregated", s.disaggregated);
  s.all_replica_counts = f.flag("all_replica_counts", s.all_replica_counts);
  s.expert_parallel = f.flag("expert_parallel", s.expert_parallel);
  s.speculation = f.flag("speculation", s.speculation);
  if (!s.aggregated && !s.disaggregated) f.fail("aggregated", "and disaggregated are both false: nothing to search");
  return s;
}

std::vector<Deployment> enumerate(const Space& space, const SpaceContext& ctx) {
  const int N = ctx.gpus;
  std::vector<int> tps = space.tp, pps = space.pp;
  if (tps.empty())
    for (int t : {1, 2, 4, 8}) tps.push_back(t);
  if (pps.empty()) pps = {1, 2, 4};
  std::vector<std::int64_t> batches = space.max_batch, budgets = space.max_tokens;
  if (batches.empty()) batches = {16, 32, 64, 128, 256};
  if (budgets.empty()) budgets = {2048, 8192};
  std::vector<std::string> weights = space.weights;
  if (weights.empty()) {
    weights = {"checkpoint"};
    if (ctx.fp8_compute && !ctx.checkpoint_quantized) weights.push_back("fp8");
  }
  std::vector<opmodel::DType> kvs = space.kv;
  if (kvs.empty()) kvs = {ctx.act, opmodel::DType::fp8};
  std::sort(batches.begin(), batches.end());

  // The expert layouts of a pool of tp devices: sharded experts; and for MoE, whole experts over ep = tp, with
  // tensor- or data-parallel attention.
  auto expert_variants = [&](int tp) {
    std::vector<std::pair<int, bool>> v{{1, false}};
    if (ctx.moe && space.expert_parallel && tp > 1) {
      v.push_back({tp, false});
      v.push_back({tp, true});
    }
    return v;
  };
  std::vector<std::pair<Pool, Pool>> layouts;  // (serve, decode); decode.instances == 0: aggregated
  const double per_layout = double(budgets.size()) * double(weights.size()) * double(kvs.size()) *
                            double(ctx.draft && space.speculation ? 2 : 1) * double(batches.size());
  auto check_size = [&] {  // as the layouts grow, so that a huge space fails at once
    const double count = double(layouts.size()) * per_layout;
    if (count > double(kMaxCandidates))
      throw SearchError("search space", "",
                        fmt::format("holds more than {} deployments: narrow its lists", kMaxCandidates));
  };
  if (space.aggregated)
    for (int tp : tps)
      for (int pp : pps) {
        if (tp * pp > N) continue;
        const int most = N / (tp * pp);
        for (int n = space.all_replica_counts ? 1 : most; n <= most; ++n)
          for (auto [ep, dp] : expert_variants(tp))
            if (pp == 1 || (ep == 1 && !dp)) layouts.push_back({Pool{tp, pp, n, ep, dp}, Pool{0, 0, 0}});
        check_size();
      }
  if (space.disaggregated)
    for (int a : tps)
      for (int b : tps)
        for (int x = 1; x * a + b <= N; ++x)
          for (int y = 1; x * a + y * b <= N; ++y) {
            // Without all_replica_counts, only splits where neither pool could take another instance.
            if (!space.all_replica_counts && (x * a + (y + 1) * b <= N || (x + 1) * a + y * b <= N)) continue;
            const std::size_t first = layouts.size();  // variants of this split that coincide are kept once
            for (const auto& variant : expert_variants(std::max(a, b))) {
              const int ep = variant.first;
              const bool dp = variant.second;
              auto pool = [&](int tp, int n) { return Pool{tp, 1, n, ep > 1 && tp > 1 ? tp : 1, dp && tp > 1}; };
              const std::pair<Pool, Pool> l{pool(a, x), pool(b, y)};
              if (std::find(layouts.begin() + std::ptrdiff_t(first), layouts.end(), l) == layouts.end())
                layouts.push_back(l);
            }
            check_size();
          }
  check_size();
  const double count = double(layouts.size()) * per_layout;
  std::vector<Deployment> out;
  out.reserve(std::size_t(count));
  for (const auto& [serve, decode] : layouts)
    for (std::int64_t budget : budgets)
      for (const std::string& w : weights)
        for (opmodel::DType kv : kvs)
          for (bool spec : {false, true}) {
            if (spec && !(ctx.draft && space.speculation)) continue;
            for (std::int64_t mb : batches) {
              Deployment d;
              d.disaggregated = decode.instances > 0;
              d.serve = serve;
              d.decode = d.disaggregated ? decode : Pool{};
              d.max_batch = mb;
              d.max_tokens = budget;
              d.weights = w;
              d.kv = kv;
              d.speculate = spec;
              out.push_back(d);
            }
          }
  return out;
}

}  // namespace roofline::search
