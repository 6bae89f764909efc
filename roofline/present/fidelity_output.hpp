// Writers of a fidelity judgement (roofline/simulate/fidelity.hpp): a console table, the Markdown the README and
// docs/fidelity carry, and JSON. They render; the errors and summaries are the judgement's.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "roofline/simulate/fidelity.hpp"

namespace roofline {

std::string render_table(const Fidelity& f);
std::string render_markdown(const Fidelity& f);
nlohmann::json to_json(const Fidelity& f);

}  // namespace roofline
