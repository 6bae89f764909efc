// hardware/host and `roofline measure-host`: the probes' declared counts against what their loops do, the
// kernels' results, the quick measurement as a valid and physically sane profile, and the round trip
// through `roofline analyze --hw`.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "hardware/error.hpp"
#include "hardware/host/host_profile.hpp"
#include "hardware/host/kernels.hpp"
#include "hardware/host/measure.hpp"
#include "hardware/host/probes.hpp"
#include "hardware/profile.hpp"
#include "opmodel/model_config.hpp"
#include "roofline/core/analysis.hpp"
#include "run_roofline.hpp"

namespace fs = std::filesystem;
using hardware::Precision;
using hardware::host::Isa;
using hardware::host::ProbeKernel;
using hardware::host::ProbeKind;
using nlohmann::json;

namespace {

struct FreeDeleter {
  void operator()(float* p) const { std::free(p); }
};
// 64-byte aligned floats (what the AVX-512 kernels' aligned loads need), filled by f(i).
template <class F>
std::unique_ptr<float, FreeDeleter> floats(std::int64_t n, F f) {
  const auto bytes = (static_cast<std::size_t>(n) * sizeof(float) + 63) / 64 * 64;
  std::unique_ptr<float, FreeDeleter> p(static_cast<float*>(std::aligned_alloc(64, bytes)));
  for (std::int64_t i = 0; i < n; ++i) p.get()[i] = f(i);
  return p;
}


std::string name_of(const ProbeKernel& k) { return fmt::format("{} ({})", k.name, to_string(k.isa)); }

roofline::AnalysisRequest fp32_request() {
  roofline::AnalysisRequest r;
  r.scenario.batch = 2;
  r.prompt = 64;
  r.gen = 8;
  // A CPU profile has no fp16 peak: run the model in fp32.
  r.scenario.weight_dtype = r.scenario.act_dtype = r.scenario.kv_dtype = opmodel::DType::fp32;
  return r;
}

}  // namespace

// Each kernel's declared FLOPs and bytes per element equal the slope of what its loop does, counted by the
// same loop template run with a counting policy (constant set-up and final reductions cancel in the slope).
TEST(MeasureHostProbes, DeclaredCountsMatchWhatEachLoopDoes) {
  const auto kernels = hardware::host::all_kernels();
  ASSERT_FALSE(kernels.empty());
  for (const ProbeKernel* k : kernels) {
    SCOPED_TRACE(name_of(*k));
    const std::int64_t n1 = 8 * k->granule, n2 = 40 * k->granule;
    const auto c1 = hardware::host::count_kernel(*k, n1), c2 = hardware::host::count_kernel(*k, n2);
    ASSERT_TRUE(c1 && c2) << "no counting twin";
    EXPECT_DOUBLE_EQ((c2->flops - c1->flops) / double(n2 - n1), k->flops_per_element);
    EXPECT_DOUBLE_EQ((c2->bytes - c1->bytes) / double(n2 - n1), k->bytes_per_element);
    if (k->granule > 1) {
      EXPECT_FALSE(hardware::host::count_kernel(*k, k->granule + 1).has_value()) << "accepts a partial granule";
    }
  }
}

// The per-element figures the literature uses for these loops, independently of the counting twins.
TEST(MeasureHostProbes, MemoryKernelsDeclareTheStreamConventions) {
  for (const ProbeKernel* k : hardware::host::all_kernels()) {
    SCOPED_TRACE(name_of(*k));
    if (k->kind == ProbeKind::read) {
      EXPECT_EQ(k->bytes_per_element, 4);  // one fp32 load
      EXPECT_EQ(k->flops_per_element, 1);  // one add
    } else if (k->kind == ProbeKind::triad) {
      EXPECT_EQ(k->bytes_per_element, 12);  // load b, load c, store a; write-allocate not counted
      EXPECT_EQ(k->flops_per_element, 2);   // one multiply-add
    } else {
      EXPECT_EQ(k->bytes_per_element, 0);
      EXPECT_GT(k->flops_per_element, 0);
    }
  }
}

// What a peak kernel's checksum must be if it runs exactly the declared work: n / lanes x repeats iterations
// of flops_per_element / 2 multiply-adds per lane (chains = flops_per_element / 2 for an FMA kernel).
namespace {

double expected_peak_checksum(const ProbeKernel& k, std::int64_t n, std::int64_t repeats) {
  namespace kn = hardware::host::kernels;
  const std::int64_t lanes = k.granule;
  const double iterations = double(n / lanes * repeats);
  if (std::string_view(k.name) == "dot_i8")  // products per lane-iteration = flops / 2, each 3 x -2
    return k.flops_per_element / 2 * double(n * repeats) * kn::kDotI8X * kn::kDotI8Y;
  if (std::string_view(k.name) == "dot_bf16")
    return k.flops_per_element / 2 * double(n * repeats) * double(kn::kDotBf16Operand) * kn::kDotBf16Operand;
  // FMA chains, replayed one by one: chain c starts at 1 + c/64 and runs x = x * m + a. With few iterations
  // each one still moves x by about 1e-3, far above the rounding differences a replay can have (1e-6).
  const int chains = static_cast<int>(k.flops_per_element / 2);
  auto chain_sum = [&]<class T>(T) {
    double sum = 0;
    for (int c = 0; c < chains; ++c) {
      T x = T(kn::kFmaStart) + T(c) * T(kn::kFmaStartStep);
      for (double i = 0; i < iterations; ++i)
        x = k.isa == Isa::scalar ? x * T(kn::kFmaMultiplier) + T(kn::kFmaAddend)  // the portable kernel's rounding
                                 : std::fma(x, T(kn::kFmaMultiplier), T(kn::kFmaAddend));
      sum += double(x);
    }
    return sum * double(lanes);
  };
  return k.precision == Precision::fp64 ? chain_sum(0.0) : chain_sum(0.0f);
}

}  // namespace

// The kernels this CPU can run do exactly the work they declare: the read kernel sums every element, the
// triad writes every element and no more, and each peak kernel's checksum is that of exactly its declared
// number of multiply-adds (one chain or one iteration more or less would show).
TEST(MeasureHostProbes, RunnableKernelsDoTheDeclaredWork) {
  const auto cpu = hardware::host::detect_cpu();
  for (Isa isa : {Isa::scalar, Isa::avx2, Isa::avx512}) {
    for (const ProbeKernel* k : hardware::host::runnable_kernels(cpu, isa)) {
      SCOPED_TRACE(name_of(*k));
      const std::int64_t n = 12 * k->granule;
      if (k->kind == ProbeKind::read) {
        auto b = floats(n, [](std::int64_t i) { return float(i % 7); });
        double expected = 0;
        for (std::int64_t i = 0; i < n; ++i) expected += double(i % 7);
        EXPECT_EQ(k->run(nullptr, b.get(), nullptr, n, 3), 3 * expected);  // small integers: exact in fp32
      } else if (k->kind == ProbeKind::triad) {
        auto a = floats(n + 16, [](std::int64_t) { return -1.0f; });
        auto b = floats(n, [](std::int64_t i) { return float(i % 5); });
        auto c = floats(n, [](std::int64_t i) { return float(i % 3); });
        k->run(a.get(), b.get(), c.get(), n, 2);
        for (std::int64_t i = 0; i < n; ++i)
          ASSERT_EQ(a.get()[i], float(i % 5) + hardware::host::kernels::kTriadScale * float(i % 3)) << i;
        EXPECT_EQ(a.get()[n], -1.0f) << "wrote past the end";
      } else {
        const double expected = expected_peak_checksum(*k, n, 2);
        EXPECT_NEAR(k->run(nullptr, nullptr, nullptr, n, 2), expected, 1e-5 * std::abs(expected));
      }
    }
  }
}

TEST(MeasureHostCpu, ReadsCacheSizesAndCpus) {
  EXPECT_EQ(hardware::host::parse_cache_size("48K"), 48 * 1024);
  EXPECT_EQ(hardware::host::parse_cache_size("32M"), 32 << 20);
  EXPECT_EQ(hardware::host::parse_cache_size("512"), 512);
  EXPECT_FALSE(hardware::host::parse_cache_size("48Q").has_value());
  EXPECT_FALSE(hardware::host::parse_cache_size("").has_value());

  const auto cpu = hardware::host::detect_cpu();
  EXPECT_FALSE(cpu.model.empty());
  EXPECT_FALSE(cpu.cpus.empty());
  ASSERT_FALSE(cpu.caches.empty());
  for (std::size_t i = 0; i < cpu.caches.size(); ++i) {
    EXPECT_GT(cpu.caches[i].size_bytes, 0) << cpu.caches[i].name;
    if (i > 0) {
      EXPECT_GT(cpu.caches[i].level, cpu.caches[i - 1].level);
    }
    EXPECT_GE(cpu.caches[i].instances_among(cpu.cpus), 1);
  }
  EXPECT_TRUE(cpu.supports(cpu.isa));
}

// The quick run: a profile that parses, figures inside physical ceilings, provenance present, a lossless JSON
// round trip, and an fp32 analysis on it.
// The structure and sanity of a measurement, never its speed or an ordering of measured figures: those differ
// from host to host (a VM with 260 MiB of L3, a busy CI machine) and belong in bench/.
TEST(MeasureHost, QuickRunGivesAValidProfile) {
  hardware::host::MeasureOptions options;
  options.quick = true;
  const auto m = hardware::host::measure_host(options);

  const json written = hardware::to_json(hardware::host::to_profile(m, "host"));
  const auto p = hardware::parse_profile(json::parse(written.dump()), "host.json");
  EXPECT_EQ(hardware::to_json(p), written);
  EXPECT_EQ(p.name, "host");
  EXPECT_EQ(p.kind, "cpu");
  const double threads = double(m.all.threads());
  // Physical ceilings no x86 core reaches: 2 FMA ports x 16 fp32 lanes x 2 FLOP x 6 GHz per thread, and
  // 2 TB/s per thread from any level. A figure above them is a counting error, not a fast machine.
  const double peak_ceiling = 2 * 16 * 2 * 6e9 * threads, bandwidth_ceiling = 2e12 * threads;
  for (Precision q : {Precision::fp32, Precision::fp64}) {
    ASSERT_TRUE(p.peak(q).has_value()) << to_string(q);
    const auto& f = *p.peak(q);
    EXPECT_TRUE(std::isfinite(f.value));
    EXPECT_GT(f.value, 1e6) << to_string(q);
    EXPECT_LT(f.value, peak_ceiling) << to_string(q);
    EXPECT_LE(*f.min, *f.median);
    EXPECT_LE(*f.median, *f.max);
    EXPECT_EQ(*f.repetitions, 5);
    EXPECT_FALSE(f.source.empty());
  }

  ASSERT_FALSE(p.caches.empty());
  for (const auto& level : p.caches) {
    ASSERT_TRUE(level.bytes_per_s && level.size_bytes) << level.name;
    EXPECT_GT(level.bytes_per_s->value, 1e8) << level.name;
    EXPECT_LT(level.bytes_per_s->value, bandwidth_ceiling) << level.name;
    EXPECT_GT(level.size_bytes->value, 0) << level.name;
  }
  EXPECT_GT(p.memory_bytes_per_s(), 1e8);
  EXPECT_LT(p.memory_bytes_per_s(), bandwidth_ceiling);
  EXPECT_TRUE(p.capacity_bytes().has_value());

  ASSERT_TRUE(p.provenance);
  const json& prov = *p.provenance;
  for (const char* key : {"cpu_model", "isa", "threads", "date", "repetitions", "one_thread", "all_threads", "probes"})
    EXPECT_TRUE(prov.contains(key)) << key;
  EXPECT_EQ(prov["mode"], "quick");
  EXPECT_GT(prov["one_thread"]["peak_flops_per_s"]["fp32"]["max"].get<double>(), 0);

  const auto a = roofline::analyze(opmodel::resolve_model("tiny"), p, fp32_request());
  ASSERT_EQ(a.steps.size(), 2u);
  EXPECT_GT(a.steps[0].time_s, 0);
  EXPECT_GT(a.steps[1].time_s, 0);
}

TEST(MeasureHost, RejectsMoreThreadsThanCpus) {
  hardware::host::MeasureOptions options;
  options.quick = true;
  options.threads = static_cast<int>(hardware::host::detect_cpu().cpus.size()) + 1;
  EXPECT_THROW(hardware::host::measure_host(options), hardware::host::MeasureError);
}

TEST(MeasureHostProfile, ProvenanceMustBeAnObjectAndOtherKeysStayStrict) {
  json j = json::parse(R"({"name": "mine", "peak_flops_per_s": {"fp32": 1e12}, "memory": {"bytes_per_s": 1e11},
                          "provenance": {"cpu_model": "x", "threads": 2}})");
  const auto p = hardware::parse_profile(j, "mine.json");
  ASSERT_TRUE(p.provenance);
  EXPECT_EQ((*p.provenance)["threads"], 2);
  EXPECT_EQ(hardware::to_json(p)["provenance"], j["provenance"]);

  j["provenance"] = 3;
  EXPECT_THROW(hardware::parse_profile(j, "mine.json"), hardware::ProfileError);
  j.erase("provenance");
  j["provenence"] = json::object();
  EXPECT_THROW(hardware::parse_profile(j, "mine.json"), hardware::ProfileError);
}

// End to end, as the issue asks: `roofline measure-host -o host.json`, then `roofline analyze --hw host.json`.
TEST(MeasureHostCli, ProfileRoundTripsThroughAnalyze) {
  const fs::path dir = fs::temp_directory_path() / ("roofline_measure_host_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path host = dir / "host.json", analysis = dir / "analysis.json";
  Result r = run("measure-host --quick --threads 1 --name my-host -o " + host.string());
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("DRAM"), std::string::npos) << r.out;  // the summary
  r = run("analyze --hw " + host.string() +
          " --model tiny --prompt 64 --gen 8 --wdtype fp32 --adtype fp32 --kvdtype fp32 --format json -o " +
          analysis.string());
  ASSERT_EQ(r.code, 0) << r.out;
  std::ifstream in(analysis);
  const json j = json::parse(in);
  EXPECT_EQ(j["hardware"]["name"], "my-host");
  fs::remove_all(dir);

  EXPECT_EQ(run("measure-host --threads 0").code, 2);
  EXPECT_EQ(run("measure-host --threads 100000").code, 2);
  r = run("measure-host --help");
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("--quick"), std::string::npos);
}
