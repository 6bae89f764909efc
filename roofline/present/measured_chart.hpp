// The roofline chart of a validation: per op, its predicted point (intensity, flops / predicted_s) and its
// measured point (intensity, achieved FLOP/s) joined by a line, so each kernel's gap to the roof shows.
//
// A sweep holds hundreds of rows, far too many points to read, so by default the chart shows one step shape
// per phase (one point pair per op and phase): the first weight dtype the file holds, the median of that phase's
// batches, and the median of its shapes at that batch (lower medians of the distinct values). A filter narrows
// the rows first (phase=decode,batch=1); `all` plots every row that passes it.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "hardware/profile.hpp"
#include "reports/roofline_chart.hpp"
#include "roofline/validate/validation_file.hpp"

namespace roofline {

struct MeasuredSelection {
  // key=value conditions: conditions on different keys must all hold, repeats of a key are alternatives
  // (phase=decode,batch=1,batch=4). Keys: op, weight_dtype, kind, phase, precision, batch, q_len, kv_len.
  std::vector<std::pair<std::string, std::string>> filter;
  bool all = false;  // every row that passes the filter, not one shape per phase
};

// Parses "phase=decode,batch=1"; throws std::invalid_argument saying what is wrong (unknown key, no '=').
std::vector<std::pair<std::string, std::string>> parse_measured_filter(const std::string& text);

// The rows the chart shows, in file order; empty when the filter matches none.
std::vector<const MeasuredOp*> select_ops(const ValidationFile& v, const MeasuredSelection& selection);

// The chart: the profile's roofs when given (all its precisions, memory and cache slopes), else a ceiling per
// precision at the peaks the file's ops were predicted with (no slope: the file gives no bandwidth). One pair
// of series (predicted, measured) per phase and weight dtype, the measured points labelled with the op. The
// data file starts with the selected rows' values from the file, as comments. `ops` come from select_ops.
reports::RooflineChart measured_roofline_chart(const ValidationFile& v, const std::vector<const MeasuredOp*>& ops,
                                               const std::optional<hardware::Profile>& hw);

}  // namespace roofline
