// Figure: a number with where it came from.
#pragma once

#include <optional>
#include <string>

namespace hardware {

// A number with where it came from (a citation, or "measured" with its spread).
struct Figure {
  double value = 0;
  std::string source;  // citation text (a key of the file's "sources" map is resolved to its text)
  std::string note;    // optional remark: "non-tensor", "sparse figure halved", ...
  // For measured figures: spread over repetitions (absent for datasheet figures).
  std::optional<double> min, median, max;
  std::optional<int> repetitions;
};

}  // namespace hardware
