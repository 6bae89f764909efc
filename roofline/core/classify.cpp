#include "roofline/core/classify.hpp"

#include <algorithm>

namespace roofline {

std::string_view to_string(Bound b) { return b == Bound::compute ? "compute" : "memory"; }

hardware::Precision precision_of(opmodel::Unit unit, opmodel::DType compute) {
  using hardware::Precision;
  using opmodel::DType;
  if (unit == opmodel::Unit::vector) return Precision::fp32;
  switch (compute) {
    case DType::fp32: return Precision::fp32;
    case DType::fp16: return Precision::fp16;
    case DType::bf16: return Precision::bf16;
    case DType::fp8: return Precision::fp8;
    case DType::int8: return Precision::int8;
    case DType::int4: return Precision::int4;
    case DType::fp8_block: return Precision::fp8;
    case DType::mxfp4: return Precision::fp4;
    case DType::nvfp4: return Precision::fp4;
  }
  return Precision::fp32;
}

Roofs Roofs::of(const hardware::Profile& p) {
  Roofs r;
  for (hardware::Precision q : hardware::kAllPrecisions)
    if (const auto& f = p.peak(q)) r.peak_flops_per_s[static_cast<std::size_t>(q)] = f->value;
  r.bytes_per_s = p.memory_bytes_per_s();
  r.profile = &p;
  return r;
}

OpPoint classify(const opmodel::OpCost& op, const Roofs& roofs) {
  OpPoint pt;
  pt.cost = op;
  pt.precision = roofs.precision_for(op);
  const double peak = roofs.peak(pt.precision);
  const double bytes = op.bytes.total();
  pt.intensity = bytes > 0 ? op.flops / bytes : 0;
  pt.attainable_flops_per_s = std::min(peak, pt.intensity * roofs.bytes_per_s);
  const double compute_s = op.flops / peak, memory_s = bytes / roofs.bytes_per_s;
  pt.bound = compute_s > memory_s ? Bound::compute : Bound::memory;
  pt.time_s = std::max(compute_s, memory_s);
  return pt;
}

}  // namespace roofline
