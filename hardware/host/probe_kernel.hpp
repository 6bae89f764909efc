// What a probe kernel is, as seen by the measurement: a loop over n elements that declares, like a
// likwid-bench test, how many FLOPs and bytes one element costs. Every rate the measurement reports is
//   rate = per_element_count x elements x repeats x threads / time of the slowest thread
// and nothing else (no hardware counters, no clock-speed guess).
//
// This header is included by the ISA-specific kernel files (compiled with -mavx2 / -mavx512f ...), so it
// holds only plain data: no inline functions that could be emitted there with wide instructions and then
// picked by the linker for the rest of the program.
#pragma once

#include <cstdint>

#include "hardware/precision.hpp"

namespace hardware::host {

// The vector instruction set a kernel is written for, narrowest first.
enum class Isa { scalar, avx2, avx512 };

enum class ProbeKind {
  peak,   // register-only multiply-adds: the compute roof
  read,   // read-only sum over an array: what a decode GEMV does to its weights
  triad,  // a[i] = b[i] + s * c[i]: two reads and a write per element
};

// Common signature: processes elements [0, n) of the arrays it uses, `repeats` times over, and returns a
// checksum (so the work cannot be optimised away). a is written, b and c are read; peak kernels touch none.
using KernelFn = double (*)(float* a, const float* b, const float* c, std::int64_t n, std::int64_t repeats);

struct ProbeKernel {
  const char* name;          // "fma_f32", "dot_i8", "read_f32", ...; the same name on every ISA
  Isa isa;
  ProbeKind kind;
  Precision precision;       // peak: the precision measured; memory kernels: their element type
  double flops_per_element;  // FLOP (int8: OP) one element costs; 1 multiply-add = 2
  double bytes_per_element;  // bytes moved between the core and memory per element (write-allocate not counted)
  std::int64_t granule;      // n must be a positive multiple of this
  KernelFn run;
  const char* cpu_feature;   // extra feature it needs beyond its ISA ("avx512vnni"), or nullptr
};

// Per-ISA kernel tables (kernels_*.cpp). An ISA's table exists only where the compiler targets x86-64.
extern const ProbeKernel kScalarKernels[];
extern const std::int64_t kScalarKernelCount;
#if defined(__x86_64__)
extern const ProbeKernel kAvx2Kernels[];
extern const std::int64_t kAvx2KernelCount;
extern const ProbeKernel kAvx512Kernels[];
extern const std::int64_t kAvx512KernelCount;
#endif

}  // namespace hardware::host
