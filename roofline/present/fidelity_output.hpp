// Writers of a fidelity judgement (roofline/simulate/fidelity.hpp, and the GEMM kernels' of core/gemm_fidelity.hpp): a console table, the Markdown the README and
// docs/fidelity carry, and JSON. They render; the errors and summaries are the judgement's.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "roofline/core/gemm_fidelity.hpp"
#include "roofline/simulate/fidelity.hpp"

namespace roofline {

std::string render_table(const Fidelity& f);
std::string render_markdown(const Fidelity& f);
nlohmann::json to_json(const Fidelity& f);
// The GEMM kernel judgement: its per-(hw, dtype) summary (table, Markdown); JSON adds every shape.
std::string render_table(const GemmFidelity& f);
std::string render_markdown(const GemmFidelity& f);
nlohmann::json to_json(const GemmFidelity& f);

}  // namespace roofline
