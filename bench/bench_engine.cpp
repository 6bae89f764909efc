// bench_engine [rounds] [gemm|gemv|attention|prefill|probe|smallm|pages|core|addnorm|moe|mla ...]: the engine's kernels against the
// host's roofs and against reference libraries, in the same run (issues 4 and 19). Prints rates (medians over rounds of medians over repetitions) and each ratio to its
// target as the median over rounds of the ratio within a round (see Contest):
//   GEMM, prefill shapes (M=1024, K=4096, N=4096 and 11008): engine vs OpenBLAS sgemm (>= 0.95x), and Eigen;
//   GEMV, decode shapes (M=1, K=4096, N=4096 and 11008): engine f32 vs OpenBLAS sgemv weight bytes/s
//   (>= 0.95x); engine bf16 and int8 (group 128) vs engine f32 bytes/s (>= 0.85x each);
//   decode attention over a long cache (Llama-2-7B heads, 8192 positions) vs the DRAM read bandwidth that
//   measure-host measures in the same round, best call against best repetition (>= 0.80x); prefill attention at
//   16 to 2048 tokens against the fp32 peak, warm and after a cold-data read (as after a step's GEMMs);
//   the probe: a decode step with and without it; GEMV against GEMM at batched-decode rows (M = 4..64); a
//   streamed read on huge pages against 4 KiB pages; one core's GEMV rates warm and cold, and decode
//   attention against a plain read of its cache; the residual add and RMSNorm separate against fused; a MoE decode step (distinct experts against the op model's
//   expectation, the experts' weight bytes/s against the DRAM read); MLA's absorbed decode (the latent cache's
//   bytes/s against the DRAM read, its FLOP rate, and the absorbed matrices' weight bytes/s).
// OpenBLAS runs the kernels of this host's ISA (OPENBLAS_CORETYPE, printed). Weights and caches rotate over
// copies totalling more than 4x the last-level cache this process can reach, so GEMV and attention
// read from DRAM as they would in a real decode step. Libraries are switched with a pause between, so
// neither library's spinning idle threads steal cores from the other's timed calls.
#include <cblas.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <cmath>
#include <string>
#include <thread>
#include <vector>

#include <Eigen/Core>
#include <nlohmann/json.hpp>
#include <fmt/format.h>
#include <omp.h>

#include "bench/bench_attention.hpp"
#include "bench/bench_common.hpp"
#include "bench/bench_host.hpp"
#include "engine/buffer.hpp"
#include "engine/config.hpp"
#include "engine/generate.hpp"
#include "engine/kernels.hpp"
#include "engine/kv_cache.hpp"
#include "engine/model.hpp"
#include "engine/weights.hpp"
#include "engine/op_names.hpp"
#include "engine/probe.hpp"
#include "hardware/host/cpu_info.hpp"
#include "hardware/host/measure.hpp"
#include "opmodel/model_config.hpp"

namespace {

// Data rotated over to stay cold (bench::cold_bytes), set in main from the host's caches.
std::size_t kColdBytes = std::size_t{128} << 20;
using bench::seconds;

double median(std::vector<double> v) { return bench::spread(std::move(v)).median; }

engine::Buffer<float> buffer_of(const std::vector<float>& v) {
  engine::Buffer<float> b(v.size());
  std::copy(v.begin(), v.end(), b.data());
  return b;
}

void pause() { std::this_thread::sleep_for(std::chrono::milliseconds(300)); }

using bench::random_floats;

// Times of contenders, round by round: rounds[i][r] = contender i's median time in round r. Noise on this
// VM drifts over seconds (DRAM bandwidth is bimodal), so a ratio is taken round by round, where both sides
// saw the same machine, and the median of those ratios is reported.
struct Contest {
  std::vector<std::vector<double>> rounds;
  double time(std::size_t i) const { return median(rounds[i]); }  // median over rounds
  double ratio(std::size_t i, std::size_t j) const {               // median over rounds of time i / time j
    std::vector<double> r;
    for (std::size_t k = 0; k < rounds[i].size(); ++k) r.push_back(rounds[i][k] / rounds[j][k]);
    return median(r);
  }
};

// Each contender `reps` times per round, one after another with a pause between (a library's spinning
// idle threads must not steal cores from the next one's timed calls), over `rounds` rounds.
Contest contest(const std::vector<std::function<void()>>& runs, int rounds, int reps) {
  Contest c{std::vector<std::vector<double>>(runs.size())};
  for (int r = 0; r < rounds; ++r)
    for (std::size_t i = 0; i < runs.size(); ++i) {
      pause();
      runs[i]();  // warm-up
      std::vector<double> t;
      for (int k = 0; k < reps; ++k) t.push_back(seconds(runs[i]));
      c.rounds[i].push_back(median(t));
    }
  return c;
}

// Contenders that share one thread team (the engine's own kernels): call by call in turn, `reps` calls each
// per round, so that every contender sees the same moments of the machine.
Contest interleaved(const std::vector<std::function<void()>>& runs, int rounds, int reps) {
  Contest c{std::vector<std::vector<double>>(runs.size())};
  for (const auto& run : runs) run();  // warm-up
  for (int r = 0; r < rounds; ++r) {
    std::vector<std::vector<double>> t(runs.size());
    for (int k = 0; k < reps; ++k)
      for (std::size_t i = 0; i < runs.size(); ++i) t[i].push_back(seconds(runs[i]));
    for (std::size_t i = 0; i < runs.size(); ++i) c.rounds[i].push_back(median(t[i]));
  }
  return c;
}

void ratio_line(const char* what, double ratio, double target) {
  fmt::print("  {:<52} {:6.3f}  (target >= {:.2f}) {}\n", what, ratio, target, ratio >= target ? "ok" : "MISSED");
}

int failures = 0;
void check(const char* what, double ratio, double target) {
  ratio_line(what, ratio, target);
  if (ratio < target) ++failures;
}

// The host's roofs, measured now (measure-host --quick): the DRAM read bandwidth and the fp32 FMA peak, all threads.
struct HostRoofs {
  double dram_read = 0, fp32_peak = 0, bf16_peak = 0, int8_peak = 0;  // 0: no probe kernel for it on this ISA
};
HostRoofs host_roofs() {
  // A library that just ran may still spin its idle threads (OpenBLAS's, GOMP's): measured then, the all-thread
  // peak once read half (118 of 236 GFLOP/s) right after the GEMM contest. The pause did not end it (it recurred
  // before the MLA bench, with no library before it), so an all-thread fp32 peak below 0.75 x threads x the
  // one-thread peak is measured again, up to twice, each figure keeping its best.
  HostRoofs r;
  for (int attempt = 0; attempt < 3; ++attempt) {
    pause();
    hardware::host::MeasureOptions o;
    o.quick = true;
    const auto m = hardware::host::measure_host(o);
    r.dram_read = std::max(r.dram_read, m.all.levels.back().read.max);
    double single_fp32 = 0;
    for (const auto& p : m.single.peaks)
      if (p.precision == hardware::Precision::fp32) single_fp32 = std::max(single_fp32, p.flops_per_s.max);
    for (const auto& p : m.all.peaks) {
      double* peak = p.precision == hardware::Precision::fp32   ? &r.fp32_peak
                     : p.precision == hardware::Precision::bf16 ? &r.bf16_peak
                     : p.precision == hardware::Precision::int8 ? &r.int8_peak
                                                                : nullptr;
      if (peak) *peak = std::max(*peak, p.flops_per_s.max);
    }
    const double expected = 0.75 * double(m.all.threads()) * single_fp32;
    if (r.fp32_peak >= expected) break;
    fmt::print("  (the all-thread fp32 peak read {:.1f} GFLOP/s, below 0.75 x {} threads x one thread's {:.1f}: "
               "measuring again)\n", r.fp32_peak / 1e9, m.all.threads(), single_fp32 / 1e9);
  }
  return r;
}
double dram_read() { return host_roofs().dram_read; }

void bench_gemm(int rounds) {
  fmt::print("GEMM, prefill shapes, fp32, {} threads (GFLOP/s, median)\n", omp_get_max_threads());
  const std::int64_t M = 1024, K = 4096;
  for (std::int64_t N : {4096, 11008}) {
    // Every contender reads the same kind of memory (engine::Buffer: huge pages where Linux grants them).
    const engine::Buffer<float> wf = buffer_of(random_floats(std::size_t(N * K), 1)),
                                xf = buffer_of(random_floats(std::size_t(M * K), 2));
    const engine::Linear w = engine::make_linear("w", wf.data(), N, K, engine::WeightFormat::f32, 0, nullptr);
    std::vector<float> y(std::size_t(M * N));
    Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>> ew(wf.data(), N, K),
        ex(xf.data(), M, K);
    Eigen::Map<Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>> ey(y.data(), M, N);
    const auto t = contest(
        {[&] { engine::gemm({y.data(), N, nullptr}, xf.data(), M, w); },
         [&] {
           cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(M), int(N), int(K), 1.0f, xf.data(), int(K),
                       wf.data(), int(K), 0.0f, y.data(), int(N));
         },
         [&] { ey.noalias() = ex * ew.transpose(); }},
        rounds, 5);
    const double flops = 2.0 * double(M) * double(N) * double(K);
    fmt::print("  M={} N={} K={}: engine {:.1f}, OpenBLAS {:.1f}, Eigen {:.1f}\n", M, N, K, flops / t.time(0) / 1e9,
               flops / t.time(1) / 1e9, flops / t.time(2) / 1e9);
    check(fmt::format("engine GEMM / OpenBLAS sgemm, N={}", N).c_str(), t.ratio(1, 0), 0.95);  // issue 19: against OpenBLAS at its best
  }
  // bf16 and int8 weights: the engine dequantizes them while it packs W and multiplies in fp32, so its roof is the fp32
  // peak; the bf16 and int8 peaks (dot-product instructions, where the ISA has them) are what a kernel computing in
  // those formats could reach.
  const HostRoofs roofs = host_roofs();
  const std::int64_t N = 4096;
  const auto wf = random_floats(std::size_t(N * K), 1), xf = random_floats(std::size_t(M * K), 2);
  std::vector<float> y(std::size_t(M * N));
  for (auto f : {engine::WeightFormat::bf16, engine::WeightFormat::int8}) {
    const engine::Linear w = engine::make_linear("w", wf.data(), N, K, f, f == engine::WeightFormat::int8 ? 128 : 0, nullptr);
    const auto t = contest({[&] { engine::gemm({y.data(), N, nullptr}, xf.data(), M, w); }}, rounds, 5);
    const double rate = 2.0 * double(M) * double(N) * double(K) / t.time(0);
    const double own = f == engine::WeightFormat::bf16 ? roofs.bf16_peak : roofs.int8_peak;
    fmt::print("  {} weights, M={} N={} K={}: engine {:.1f} GFLOP/s, {:.2f} of the fp32 peak ({:.1f}), {} of the {} peak "
               "({})\n",
               engine::to_string(f), M, N, K, rate / 1e9, rate / roofs.fp32_peak, roofs.fp32_peak / 1e9,
               own > 0 ? fmt::format("{:.2f}", rate / own) : "n/a", f == engine::WeightFormat::bf16 ? "bf16" : "int8",
               own > 0 ? fmt::format("{:.1f}", own / 1e9) : "not measured");
  }
}

// A streamed read of n floats touching every cache line (one float a line), split over the threads in
// contiguous shares: the plain read a streaming kernel is set against.
float touch_lines(const float* p, std::size_t n) {
  float total = 0;
#pragma omp parallel for schedule(static) reduction(+ : total)
  for (std::size_t i = 0; i < n; i += 32) total += p[i] + p[i + 16];
  return total;
}

// Copies of W [n, k] in format f (int8: group 128) totalling more than kColdBytes, so that calls rotating
// over them read W from DRAM.
engine::Linear linear_of(const std::vector<float>& w, std::int64_t n, std::int64_t k, engine::WeightFormat f) {
  return engine::make_linear("w", w.data(), n, k, f, f == engine::WeightFormat::int8 ? 128 : 0, nullptr);
}
std::vector<engine::Linear> cold_copies(const std::vector<float>& w, std::int64_t n, std::int64_t k,
                                        engine::WeightFormat f) {
  std::vector<engine::Linear> v;
  v.push_back(linear_of(w, n, k, f));
  const std::size_t copies = std::max<std::size_t>(2, (kColdBytes + v[0].weight_bytes() - 1) / v[0].weight_bytes() + 1);
  while (v.size() < copies) v.push_back(linear_of(w, n, k, f));
  return v;
}

void bench_gemv(int rounds) {
  fmt::print("\nGEMV, decode shapes, M=1, weights cold (GB/s of weight bytes, median)\n");
  const std::int64_t K = 4096;
  for (std::int64_t N : {4096, 11008}) {
    const auto wf = random_floats(std::size_t(N * K), 3), xf = random_floats(std::size_t(K), 4);
    std::vector<float> y(static_cast<std::size_t>(N));
    const std::size_t f32_bytes = std::size_t(N * K * 4);
    const std::size_t copies = std::max<std::size_t>(2, (kColdBytes + f32_bytes - 1) / f32_bytes + 1);
    // OpenBLAS reads the same kind of memory as the engine (engine::Buffer: huge pages where Linux grants them).
    std::vector<engine::Buffer<float>> blas;
    for (std::size_t i = 0; i < copies; ++i) blas.push_back(buffer_of(wf));
    const auto f32 = cold_copies(wf, N, K, engine::WeightFormat::f32),
               bf16 = cold_copies(wf, N, K, engine::WeightFormat::bf16),
               i8 = cold_copies(wf, N, K, engine::WeightFormat::int8);
    std::size_t next = 0;
    auto rotate = [&](const std::vector<engine::Linear>& ws) {
      return [&] { engine::gemv({y.data(), N, nullptr}, xf.data(), 1, ws[next++ % ws.size()]); };
    };
    const auto blas_vs = contest({rotate(f32),
                                  [&] {
                                    cblas_sgemv(CblasRowMajor, CblasNoTrans, int(N), int(K), 1.0f,
                                                blas[next++ % copies].data(), int(K), xf.data(), 1, 0.0f, y.data(), 1);
                                  }},
                                 rounds, 9);
    const auto formats = interleaved({rotate(f32), rotate(bf16), rotate(i8)}, 3 * rounds, 9);
    const double w_f32 = double(f32[0].weight_bytes()), w_bf16 = double(bf16[0].weight_bytes()),
                 w_i8 = double(i8[0].weight_bytes());
    fmt::print("  N={} K={}: engine f32 {:.1f}, OpenBLAS {:.1f}; interleaved: engine f32 {:.1f}, bf16 {:.1f}, "
               "int8 {:.1f}\n", N, K, w_f32 / blas_vs.time(0) / 1e9, double(f32_bytes) / blas_vs.time(1) / 1e9,
               w_f32 / formats.time(0) / 1e9, w_bf16 / formats.time(1) / 1e9, w_i8 / formats.time(2) / 1e9);
    fmt::print("  {:<52} {:.2f} / {:.2f} / {:.2f} ms\n", "time per call f32 / bf16 / int8", formats.time(0) * 1e3,
               formats.time(1) * 1e3, formats.time(2) * 1e3);
    // bytes/s ratio = (bytes_a / t_a) / (bytes_f32 / t_f32), round by round
    check(fmt::format("engine f32 GEMV / OpenBLAS sgemv, N={}", N).c_str(), blas_vs.ratio(1, 0), 0.95);
    check(fmt::format("engine bf16 GEMV bytes/s / engine f32, N={}", N).c_str(), w_bf16 / w_f32 * formats.ratio(0, 1), 0.85);
    check(fmt::format("engine int8 GEMV bytes/s / engine f32, N={}", N).c_str(), w_i8 / w_f32 * formats.ratio(0, 2), 0.85);
  }
}


// Decode attention over Llama-2-7B's heads (32 x 128) at 8192 cached positions, batch 1: a contiguous
// cache holding copies of the sequence totalling more than kColdBytes, one query, and calls that rotate
// over the copies (cache cold, as in a decode step).
struct ColdAttention {
  static constexpr std::int64_t h = 32, hd = 128, kv = 8192, kvd = h * hd;
  static constexpr std::size_t bytes = std::size_t(2 * kv * kvd * 4);  // K and V read per call
  const std::int64_t copies = std::max<std::int64_t>(2, std::int64_t(kColdBytes / bytes) + 1);
  engine::KvCache cache = engine::KvCache::contiguous(1, engine::KvRowDims{kvd, kvd}, copies, kv);
  const std::vector<float> q = random_floats(std::size_t(kvd), 5);
  std::vector<float> out = std::vector<float>(std::size_t(kvd));
  const engine::AttentionShape shape{h, h, hd, kvd, std::nullopt, 1.0f / std::sqrt(float(hd))};
  std::vector<engine::KvRun> runs;
  std::int64_t next = 0;

  ColdAttention() {
    for (std::int64_t s = 0; s < copies; ++s) {
      const std::int64_t id = cache.add_sequence();
      cache.reserve(id, kv);
      cache.set_length(id, kv);
      const auto rows = random_floats(std::size_t(kvd), unsigned(6 + s));
      for (std::int64_t p = 0; p < kv; ++p) {
        std::copy(rows.begin(), rows.end(), cache.k_row(id, 0, p));
        std::copy(rows.begin(), rows.end(), cache.v_row(id, 0, p));
      }
    }
  }
  void call() {  // attention of the next copy
    const std::int64_t id = next++ % copies;
    cache.runs(id, 0, kv, runs);
    const engine::AttentionSeq seq{q.data(), out.data(), 1, kv - 1, runs};
    engine::attention({&seq, 1}, shape);
  }
  float read() {  // a plain read of the next copy's K and V (every cache line), split over the threads
    const std::int64_t id = next++ % copies;
    return touch_lines(cache.k_row(id, 0, 0), std::size_t(kv * kvd)) +
           touch_lines(cache.v_row(id, 0, 0), std::size_t(kv * kvd));
  }
};

void bench_attention(int rounds) {
  fmt::print("\nDecode attention, 32 heads x 128, 8192 cached positions, batch 1, cache cold\n");
  ColdAttention a;
  std::vector<double> att, dram;
  for (int r = 0; r < rounds; ++r) {
    pause();
    dram.push_back(dram_read());
    pause();
    std::vector<double> t;
    for (int k = 0; k < 10; ++k) t.push_back(seconds([&] { a.call(); }));
    // Best call of the round against measure-host's DRAM read, whose figure is also its best repetition.
    att.push_back(double(a.bytes) / *std::min_element(t.begin(), t.end()));
    fmt::print("  round {}: attention {:.1f} GB/s, DRAM read (measure-host) {:.1f} GB/s\n", r + 1, att.back() / 1e9,
               dram.back() / 1e9);
  }
  std::vector<double> ratio;
  for (std::size_t r = 0; r < att.size(); ++r) ratio.push_back(att[r] / dram[r]);
  fmt::print("  median of rounds (each the best of its calls): attention {:.1f} GB/s of K and V, DRAM read {:.1f} GB/s\n",
             median(att) / 1e9, median(dram) / 1e9);
  check("decode attention bytes/s / DRAM read (median of rounds)", median(ratio), 0.80);
}

using bench::PromptAttention;

// Prefill attention at the validated shapes: Llama-2-7B's heads (32 x 128, MHA), one prompt of 16, 64, 128, 512 and
// 2048 tokens. The work: causal pairs n (n + 1) / 2 per head, 4 hd FLOP each (QK^T and PV); the roof is the fp32 peak
// measured in the same run (K and V, at most 2 x 2048 x 4096 x 4 bytes, are read at far above the ridge). Three ways:
//   warm: back to back, as a bench repeats a call;
//   cold: each call after a read of kColdBytes, as in a model step, where the layer's GEMMs stream their weights
//     between two attention calls (code, data, scratch and page tables evicted);
//   cold, kernel warmed: the same read, then the kernel once on a private 2-head prompt of the same length (its code,
//     branch history and scratch warm again, this prompt's data not), then the timed call.
// Prints GFLOP/s and the fraction of the peak, median of 5 calls a round, median of rounds.
void bench_prefill_attention(int rounds) {
  const HostRoofs roofs = host_roofs();
  fmt::print("\nPrefill attention, 32 heads x 128, fp32 (host fp32 peak {:.1f} GFLOP/s, measured now; GFLOP/s and "
             "fraction of it: warm | cold | cold, kernel warmed)\n",
             roofs.fp32_peak / 1e9);
  const std::vector<float> stream(kColdBytes / sizeof(float), 1.0f);
  float sink = 0;
  for (std::int64_t n : {16, 64, 128, 512, 2048}) {
    const PromptAttention a(n, 32), warmer(n, 2);
    std::vector<double> warm, cold, warmed;
    const auto rate = [&](const std::function<void()>& before) {
      std::vector<double> t;
      for (int k = 0; k < 5; ++k) {
        before();
        t.push_back(seconds([&] { a.call(); }));
      }
      return a.flops() / median(t);
    };
    for (int r = 0; r < rounds; ++r) {
      a.call();
      warm.push_back(rate([] {}));
      cold.push_back(rate([&] { sink += touch_lines(stream.data(), stream.size()); }));
      warmed.push_back(rate([&] {
        sink += touch_lines(stream.data(), stream.size());
        warmer.call();
      }));
    }
    const auto show = [&](const std::vector<double>& v) {
      return fmt::format("{:6.1f} {:.2f}", median(v) / 1e9, median(v) / roofs.fp32_peak);
    };
    fmt::print("  {:>4} tokens: {} | {} | {}\n", n, show(warm), show(cold), show(warmed));
  }
  if (sink == 42) fmt::print(" ");  // keeps the reads
}

// A MoE decode step: one layer of Qwen3-30B-A3B's shapes (128 experts of 768 x 2048, top-8, fp32), batches of 1
// to 32 sequences decoding after a 32-token prompt. Per batch: the distinct experts the router touched (the probe's
// count, median over steps) against the op model's expectation under uniform routing, E (1 - (1 - k/E)^B); and the
// expert GEMMs' attained bandwidth over the weights they read (touched x 3 matrices) against the DRAM read.
void bench_moe(int rounds) {
  fmt::print("\nMoE decode, one Qwen3-30B-A3B layer (128 experts 768 x 2048, top-8, fp32 weights)\n");
  std::string text;
  for (const auto& f : opmodel::embedded_files())
    if (f.name == "qwen3-30b-a3b") text = std::string(f.text);
  nlohmann::json j = nlohmann::json::parse(text);
  j["num_hidden_layers"] = 1;
  const engine::Config c = engine::parse_config(j.dump(), "qwen3-30b-a3b, 1 layer");
  const engine::Weights w = engine::random_weights(c, 5, {});
  engine::Model model(w, engine::AttentionKind::tiled);
  const double E = double(c.moe->experts), k = double(c.moe->top_k), fe = double(c.moe->hidden);
  const double expert_bytes = 3 * fe * double(c.dim) * 4;
  const double dram = dram_read();
  for (std::int64_t B : {1, 8, 32}) {
    std::vector<double> touched, rate;
    for (int r = 0; r < rounds; ++r) {
      engine::KvCache cache(c.n_layers, c.kv_dim(), 16, 64 * B);
      std::vector<std::vector<std::int32_t>> prompts;
      for (std::int64_t b = 0; b < B; ++b) {
        std::vector<std::int32_t> p(32);
        for (std::size_t i = 0; i < p.size(); ++i) p[i] = std::int32_t((b * 7919 + std::int64_t(i) * 104729 + r) % c.vocab_size);
        prompts.push_back(p);
      }
      engine::Probe probe;
      engine::generate(model, cache, prompts, 9, {}, &probe);  // 8 decode steps
      std::map<std::int64_t, std::pair<std::int64_t, double>> steps;  // decode call index -> experts, seconds
      std::int64_t call = 0;
      for (const auto& rec : probe.records) {
        if (rec.phase != engine::Phase::decode) continue;
        if (rec.op == engine::op::expert_gate_proj) ++call;
        if (rec.op == engine::op::expert_gate_proj || rec.op == engine::op::expert_up_proj ||
            rec.op == engine::op::expert_down_proj) {
          steps[call].first = rec.experts;
          steps[call].second += double(rec.ns) * 1e-9;
        }
      }
      for (const auto& [i, st] : steps) {
        touched.push_back(double(st.first));
        rate.push_back(double(st.first) * expert_bytes / st.second);
      }
    }
    const double expected = E * (1 - std::pow(1 - k / E, double(B)));
    fmt::print("  batch {:>2}: distinct experts {:.1f} (median of {} steps) against {:.1f} expected; expert GEMMs read "
               "{:.1f} GB/s of weights, {:.2f} of the DRAM read ({:.1f} GB/s)\n",
               B, median(touched), touched.size(), expected, median(rate) / 1e9, median(rate) / dram, dram / 1e9);
  }
}

// MLA absorbed decode: one layer of DeepSeek-V2-Lite's attention (16 heads; latent 512 + rope 64; nope, v 128), fp32,
// batches of 1, 8 and 32 sequences at 4096 cached positions. The caches are not prefilled (the time does not depend
// on the values) and rotate over sets of sequences whose latent rows total more than kColdBytes, so each step reads
// its cache from DRAM. Per batch: the attention's latent read (B x 4096 x 576 x 4 bytes, read once) per second
// against the DRAM read, its FLOP rate (per position and head 2 (r + dr) for the score and 2 r for the value), and
// q_absorb / o_absorb's weight bytes per second (W_UK and W_UV: 2 x 16 x 128 x 512 x 4 bytes).
void bench_mla(int rounds) {
  fmt::print("\nMLA absorbed decode, one DeepSeek-V2-Lite attention layer (16 heads, latent 512 + 64), fp32, 4096 "
             "cached positions\n");
  std::string text;
  for (const auto& f : opmodel::embedded_files())
    if (f.name == "deepseek-v2-lite") text = std::string(f.text);
  nlohmann::json j = nlohmann::json::parse(text);
  j["num_hidden_layers"] = 1;  // layer 0 is dense (first_k_dense_replace): the attention is what is timed
  j["vocab_size"] = 1024;
  const engine::Config c = engine::parse_config(j.dump(), "deepseek-v2-lite, 1 layer");
  const engine::Weights w = engine::random_weights(c, 6, {});
  engine::Model model(w, engine::AttentionKind::tiled);
  const engine::MlaConfig& a = *c.mla;
  const double h = double(c.n_heads), r = double(a.kv_lora_rank), lat = double(c.cache_k_dim());
  const std::int64_t context = 4096;
  const HostRoofs roofs = host_roofs();
  const double dram = roofs.dram_read;
  fmt::print("  host roofs now: DRAM read {:.1f} GB/s, fp32 peak {:.1f} GFLOP/s; the absorbed attention's intensity is "
             "{:.1f} FLOP/B (ridge {:.1f})\n",
             dram / 1e9, roofs.fp32_peak / 1e9, h * (2 * lat + 2 * r) / (lat * 4), roofs.fp32_peak / dram);
  for (std::int64_t B : {1, 8, 32}) {
    const double latent_bytes = double(B * context) * lat * 4;
    const std::int64_t sets = std::max<std::int64_t>(2, std::int64_t(double(kColdBytes) / latent_bytes) + 1);
    engine::KvCache cache(c.n_layers, engine::KvRowDims{c.cache_k_dim(), c.cache_v_dim()}, 64,
                          sets * B * (context / 64 + 1));
    std::vector<std::int64_t> ids;
    for (std::int64_t i = 0; i < sets * B; ++i) {
      ids.push_back(cache.add_sequence());
      cache.reserve(ids.back(), context + 1);
    }
    std::vector<std::int32_t> tokens(std::size_t(B), 11);
    std::vector<float> logits(std::size_t(B * c.vocab_size));
    std::vector<double> attention_rate, flop_rate, absorb_rate, roof_fraction;
    for (int round = 0; round < rounds; ++round) {
      engine::Probe probe;
      for (std::int64_t step = 0; step < 4 * sets; ++step) {  // every set visited four times
        std::vector<engine::SequenceStep> seqs;
        for (std::int64_t b = 0; b < B; ++b) {
          const std::int64_t id = ids[std::size_t((step % sets) * B + b)];
          cache.set_length(id, context);
          seqs.push_back({id, {&tokens[std::size_t(b)], 1}});
        }
        model.forward(cache, seqs, logits.data(), engine::Phase::decode, step < sets ? nullptr : &probe);  // warm-up
      }
      std::vector<double> att, absorb;
      double q_ns = 0;
      for (const auto& rec : probe.records) {
        if (rec.op == engine::op::attention) att.push_back(double(rec.ns) * 1e-9);
        if (rec.op == engine::op::q_absorb) q_ns = double(rec.ns);
        if (rec.op == engine::op::o_absorb) absorb.push_back((q_ns + double(rec.ns)) * 1e-9);
      }
      const double t = median(att), keys = double(B * (context + 1));
      attention_rate.push_back(latent_bytes / t);
      flop_rate.push_back(keys * h * (2 * lat + 2 * r) / t);
      // The roof: min(peak, intensity x bandwidth), i.e. the bound time max(FLOPs / peak, bytes / DRAM read).
      roof_fraction.push_back(std::max(keys * h * (2 * lat + 2 * r) / roofs.fp32_peak, latent_bytes / dram) / t);
      absorb_rate.push_back(2 * h * double(a.qk_nope_head_dim) * r * 4 / median(absorb));
    }
    fmt::print("  batch {:>2}: attention reads the latent at {:.1f} GB/s ({:.2f} of the DRAM read) at {:.1f} GFLOP/s "
               "({:.2f} of the fp32 peak): {:.2f} of its roof; q_absorb + o_absorb read W_UK and W_UV at {:.1f} GB/s "
               "({} cache sets rotated)\n",
               B, median(attention_rate) / 1e9, median(attention_rate) / dram, median(flop_rate) / 1e9,
               median(flop_rate) / roofs.fp32_peak, median(roof_fraction), median(absorb_rate) / 1e9, sets);
  }
}

// GEMV against GEMM at the row counts of batched decode (M = 4..64, N=11008, K=4096, each weight format):
// the GEMV streams W once per 4-row block of x, the GEMM packs W into panels first. Prints both times and
// where the GEMM starts to win (the engine takes the GEMV up to kGemvMaxRows rows).
void bench_small_m(int rounds) {
  fmt::print("\nLinear layers at batched-decode rows, N=11008 K=4096, weights cold (ms per call, median)\n");
  const std::int64_t N = 11008, K = 4096;
  const auto wf = random_floats(std::size_t(N * K), 7);
  for (auto f : {engine::WeightFormat::f32, engine::WeightFormat::bf16, engine::WeightFormat::int8}) {
    std::vector<engine::Linear> ws;  // three copies: each call reads W from DRAM, not from the last call's cache
    for (int c = 0; c < 3; ++c)
      ws.push_back(engine::make_linear("w", wf.data(), N, K, f, f == engine::WeightFormat::int8 ? 128 : 0, nullptr));
    std::string crossover = "none up to 64";
    for (std::int64_t M : {4, 8, 12, 16, 24, 32, 48, 64}) {
      const auto x = random_floats(std::size_t(M * K), 8);
      std::vector<float> y(std::size_t(M * N));
      std::size_t next = 0;
      const auto t = interleaved({[&] { engine::gemv({y.data(), N, nullptr}, x.data(), M, ws[next++ % 3]); },
                                  [&] { engine::gemm({y.data(), N, nullptr}, x.data(), M, ws[next++ % 3]); }},
                                 rounds, 3);
      fmt::print("  {} M={:<3} GEMV {:6.2f}  GEMM {:6.2f}\n", engine::to_string(f), M, t.time(0) * 1e3, t.time(1) * 1e3);
      if (crossover.starts_with("none") && t.ratio(1, 0) < 1) crossover = fmt::format("M={}", M);
    }
    fmt::print("  {}: GEMM first faster at {}\n", engine::to_string(f), crossover);
  }
}

// A 512 MB streamed read, 2 MiB-aligned, on transparent huge pages (engine::Buffer) against the same on
// 4 KiB pages, alternating: what the engine's huge-page buffers buy a kernel that streams its operands.
void bench_pages(int rounds) {
  fmt::print("\nStreamed read of 512 MB, all threads, huge pages vs 4 KiB pages (GB/s, median)\n");
  const std::size_t n = (std::size_t{512} << 20) / sizeof(float);
  engine::Buffer<float> huge(n);  // madvise(MADV_HUGEPAGE) inside
  float* small = static_cast<float*>(std::aligned_alloc(std::size_t{2} << 20, n * sizeof(float)));
  madvise(small, n * sizeof(float), MADV_NOHUGEPAGE);
  std::fill_n(small, n, 1.0f);
  std::fill_n(huge.data(), n, 1.0f);
  float sink = 0;
  auto read = [&](const float* p) { return [&sink, p, n] { sink += touch_lines(p, n); }; };
  const auto t = interleaved({read(huge.data()), read(small)}, rounds, 5);
  const double bytes = double(n * sizeof(float));
  fmt::print("  huge pages {:.1f}, 4 KiB pages {:.1f}: ratio {:.2f}{}\n", bytes / t.time(0) / 1e9,
             bytes / t.time(1) / 1e9, t.ratio(1, 0), sink == 0 ? " (no data?)" : "");
  std::free(small);
}

// The residual add and the RMSNorm after it at decode rows (Llama-2-7B's d = 4096), separate (add, then rmsnorm: two
// calls, the sum written and read back) against fused (add_rmsnorm: one call, AddNorm::fused), call by call in turn
// on warm vectors, as in a decode step where the MLP's output has just been written. At these sizes the calls are
// bound by their fixed cost (a parallel region: fork, join, and the norm's barrier), not by the bytes.
void bench_add_norm(int rounds) {
  fmt::print("\nResidual add + RMSNorm, d = 4096, warm (microseconds a pair of ops, median)\n");
  const std::int64_t d = 4096;
  const auto gamma = random_floats(std::size_t(d), 5);
  for (const std::int64_t rows : {1, 4, 16, 64}) {
    const auto delta = random_floats(std::size_t(rows * d), 6);
    auto x = random_floats(std::size_t(rows * d), 7);
    std::vector<float> y(x.size());
    const auto t = interleaved(
        {[&] {
           engine::add(x.data(), x.data(), delta.data(), rows * d);
           engine::rmsnorm(y.data(), x.data(), gamma.data(), rows, d, 1e-5f);
         },
         [&] { engine::add_rmsnorm(y.data(), x.data(), delta.data(), gamma.data(), rows, d, 1e-5f); }},
        rounds, 201);
    // Compulsory bytes of each form: add reads 2 and writes 1 row set, the norm reads 1 and gamma and writes 1; fused
    // reads 2, writes 2, and gamma (from 2^17 elements its two passes read the sum back, as the separate pair does).
    const double row_bytes = double(rows * d) * 4, separate_bytes = 5 * row_bytes + double(d) * 4,
                 fused_bytes = 4 * row_bytes + double(d) * 4;
    fmt::print("  {:>2} rows: separate {:6.2f} us ({:5.1f} GB/s), fused {:6.2f} us ({:5.1f} GB/s), separate / fused "
               "{:.2f}\n",
               rows, t.time(0) * 1e6, separate_bytes / t.time(0) / 1e9, t.time(1) * 1e6, fused_bytes / t.time(1) / 1e9,
               t.ratio(0, 1));
  }
}

// One core's view, which the kernels' comments quote: GEMV weight bytes/s on one thread with W in cache
// (N=32, K=4096: 512 KiB of fp32, inside this host's 1 MiB L2) and cold (N=11008), where a kernel whose
// warm rate is near its cold one is compute-bound; and decode attention against a plain read of the
// same cache, one thread and all, the calls in turn.
void bench_core(int rounds) {
  fmt::print("\nOne core: GEMV M=1 K=4096 (GB/s of weight bytes), decode attention vs a plain read (median)\n");
  const int threads = omp_get_max_threads();
  omp_set_num_threads(1);
  const std::int64_t K = 4096;
  const auto xf = random_floats(std::size_t(K), 4);
  for (const std::int64_t N : {32, 11008}) {
    const auto wf = random_floats(std::size_t(N * K), 3);
    std::vector<float> y(static_cast<std::size_t>(N));
    std::vector<std::vector<engine::Linear>> ws;
    std::vector<std::function<void()>> calls;
    std::size_t next = 0;
    for (auto f : {engine::WeightFormat::f32, engine::WeightFormat::bf16, engine::WeightFormat::int8}) {
      if (N != 32) {
        ws.push_back(cold_copies(wf, N, K, f));
        continue;
      }
      ws.emplace_back();  // warm: one copy, read again and again
      ws.back().push_back(linear_of(wf, N, K, f));
    }
    for (std::size_t i = 0; i < ws.size(); ++i)
      calls.push_back([&, i] { engine::gemv({y.data(), N, nullptr}, xf.data(), 1, ws[i][next++ % ws[i].size()]); });
    const auto t = interleaved(calls, rounds, N == 32 ? 200 : 9);
    fmt::print("  GEMV one thread, N={} ({}): f32 {:.1f}, bf16 {:.1f}, int8 {:.1f}\n", N, N == 32 ? "warm" : "cold",
               double(ws[0][0].weight_bytes()) / t.time(0) / 1e9, double(ws[1][0].weight_bytes()) / t.time(1) / 1e9,
               double(ws[2][0].weight_bytes()) / t.time(2) / 1e9);
  }
  ColdAttention a;
  float sink = 0;
  for (int n : {1, threads}) {
    omp_set_num_threads(n);
    const auto t = interleaved({[&] { a.call(); }, [&] { sink += a.read(); }}, rounds, 6);
    fmt::print("  decode attention, {} thread(s): {:.1f} GB/s, plain read of the same cache {:.1f} GB/s: ratio {:.2f}{}\n",
               n, double(a.bytes) / t.time(0) / 1e9, double(a.bytes) / t.time(1) / 1e9, t.ratio(1, 0),
               sink == 0 ? " (no data?)" : "");
  }
  omp_set_num_threads(threads);
}

void bench_probe(int rounds) {
  fmt::print("\nProbe cost: decode step of a 4-layer model (dim 512), batch 1, probe off vs on\n");
  const engine::Config c = engine::parse_config(
      R"({"model_type":"llama","hidden_size":512,"intermediate_size":1536,"num_hidden_layers":4,
          "num_attention_heads":8,"num_key_value_heads":8,"vocab_size":4096,"max_position_embeddings":2048})",
      "bench config");
  const engine::Weights w = engine::random_weights(c, 1, {});
  engine::Model model(w, engine::AttentionKind::tiled);
  engine::KvCache cache(c.n_layers, c.kv_dim(), 16, 256);
  const std::int64_t id = cache.add_sequence();
  std::vector<std::int32_t> prompt(256, 7);
  std::vector<float> logits(std::size_t(c.vocab_size));
  engine::SequenceStep step{id, prompt};
  model.forward(cache, {&step, 1}, logits.data(), engine::Phase::prefill, nullptr);
  const std::int32_t token = 3;
  engine::Probe probe;
  auto decode = [&](engine::Probe* p) {
    return [&, p] {
      engine::SequenceStep s{id, {&token, 1}};
      cache.set_length(id, 256);  // re-run the same decode position
      model.forward(cache, {&s, 1}, logits.data(), engine::Phase::decode, p);
      probe.records.clear();
    };
  };
  const auto t = interleaved({decode(nullptr), decode(&probe)}, rounds, 200);
  fmt::print("  off {:.1f} us, on {:.1f} us per step ({:+.2f}%, {} kernel calls timed per step)\n", t.time(0) * 1e6,
             t.time(1) * 1e6, (t.ratio(1, 0) - 1) * 100, 3 + 15 * c.n_layers);
}

}  // namespace

int main(int argc, char** argv) {
  const hardware::host::CpuInfo cpu = hardware::host::detect_cpu();
  bench::run_openblas_at_its_best(cpu, argv);
  const int rounds = argc > 1 ? std::max(1, std::atoi(argv[1])) : 3;
  const std::int64_t llc = bench::last_level_cache_bytes(cpu);
  kColdBytes = bench::cold_bytes(cpu);
  const char* coretype = std::getenv("OPENBLAS_CORETYPE");
  fmt::print("bench_engine: {} rounds; {}; OpenBLAS {} running its {} kernels (OPENBLAS_CORETYPE={}); cold data "
             "rotates over {} MiB (last-level cache {} MiB)\n\n",
             rounds, cpu.model, openblas_get_config(), openblas_get_corename(), coretype ? coretype : "unset",
             kColdBytes >> 20, llc >> 20);
  auto wanted = [&](const char* name) {
    if (argc <= 2) return true;
    for (int i = 2; i < argc; ++i)
      if (std::string(argv[i]) == name) return true;
    return false;
  };
  if (wanted("gemm")) bench_gemm(rounds);
  if (wanted("gemv")) bench_gemv(rounds);
  if (wanted("attention")) bench_attention(rounds);
  if (wanted("prefill")) bench_prefill_attention(rounds);
  if (wanted("probe")) bench_probe(rounds);
  if (wanted("smallm")) bench_small_m(rounds);
  if (wanted("pages")) bench_pages(rounds);
  if (wanted("core")) bench_core(rounds);
  if (wanted("addnorm")) bench_add_norm(rounds);
  if (wanted("moe")) bench_moe(rounds);
  if (wanted("mla")) bench_mla(rounds);
  fmt::print("\n{} target(s) missed\n", failures);
  return failures ? 1 : 0;
}
