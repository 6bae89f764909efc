#include "hardware/host/probes.hpp"


namespace hardware::host {

std::string_view to_string(ProbeKind kind) {
  switch (kind) {
    case ProbeKind::peak: return "peak";
    case ProbeKind::read: return "read";
    case ProbeKind::triad: return "triad";
  }
  return "?";
}

std::span<const ProbeKernel> kernels_for(Isa isa) {
  auto span_of = [](const ProbeKernel* table, std::int64_t count) {
    return std::span<const ProbeKernel>(table, static_cast<std::size_t>(count));
  };
  switch (isa) {
    case Isa::scalar: return span_of(kScalarKernels, kScalarKernelCount);
#if defined(__x86_64__)
    case Isa::avx2: return span_of(kAvx2Kernels, kAvx2KernelCount);
    case Isa::avx512: return span_of(kAvx512Kernels, kAvx512KernelCount);
#else
    default: return {};
#endif
  }
  return {};
}

std::vector<const ProbeKernel*> all_kernels() {
  std::vector<const ProbeKernel*> out;
  for (Isa isa : {Isa::scalar, Isa::avx2, Isa::avx512})
    for (const auto& k : kernels_for(isa)) out.push_back(&k);
  return out;
}

std::vector<const ProbeKernel*> runnable_kernels(const CpuInfo& cpu, Isa isa) {
  std::vector<const ProbeKernel*> out;
  if (!cpu.supports(isa)) return out;
  for (const auto& k : kernels_for(isa))
    if (!k.cpu_feature || cpu.has(k.cpu_feature)) out.push_back(&k);
  return out;
}

const ProbeKernel* find_kernel(std::span<const ProbeKernel* const> kernels, ProbeKind kind, Precision precision) {
  for (const ProbeKernel* k : kernels)
    if (k->kind == kind && (kind != ProbeKind::peak || k->precision == precision)) return k;
  return nullptr;
}

}  // namespace hardware::host
