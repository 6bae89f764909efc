// The measured-times CSV of `validate --measured`, then joined to a model's predictions on a preset, and a
// validate JSON as `plot --measured` and `report --validation` read it.
#include <nlohmann/json.hpp>

#include "fuzz_support.hpp"
#include "hardware/presets.hpp"
#include "opmodel/model_config.hpp"
#include "roofline/validate/validation.hpp"
#include "roofline/validate/validation_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text = fuzz::text_of(data, size);
  fuzz::expect_clean([&] {
    const auto measured = roofline::parse_measured_csv(text, "fuzz.csv");
    opmodel::Scenario base;
    base.weight_dtype = base.act_dtype = base.kv_dtype = opmodel::DType::fp16;
    roofline::validate_ops(opmodel::resolve_model("tiny"), base, hardware::preset("a100-80g-sxm"), measured);
  });
  fuzz::expect_clean([&] { roofline::parse_validation_file(text, "fuzz.json"); });
  return 0;
}
