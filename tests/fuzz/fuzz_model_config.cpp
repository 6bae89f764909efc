// A Hugging Face config.json, read by opmodel and by the engine; a config opmodel accepts is then analyzed
// (every op's formulas on its shape) on a preset, where a zero or absurd field would divide by zero or overflow.
#include <nlohmann/json.hpp>

#include "engine/config.hpp"
#include "fuzz_support.hpp"
#include "hardware/presets.hpp"
#include "opmodel/model_config.hpp"
#include "roofline/core/analysis.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text = fuzz::text_of(data, size);
  fuzz::expect_clean([&] { engine::parse_config(text, "fuzz.json"); });
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception&) {
    return 0;
  }
  fuzz::expect_clean([&] {
    const opmodel::ModelConfig m = opmodel::parse_model_config(j, "fuzz", "fuzz.json");
    roofline::AnalysisRequest req;
    req.scenario.batch = 3;
    req.prompt = 17;
    req.gen = 2;
    const roofline::Analysis a = roofline::analyze(m, hardware::preset("h100-sxm"), req);
    if (!(a.steps.at(0).time_s >= 0)) __builtin_trap();  // a NaN or negative time is silent nonsense
  });
  return 0;
}
