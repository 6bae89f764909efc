// A search space file (search --space): parsed, then enumerated on 8 devices for a MoE model with a draft.
#include <nlohmann/json.hpp>

#include "fuzz_support.hpp"
#include "roofline/search/space.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const nlohmann::json j = nlohmann::json::parse(fuzz::text_of(data, size), nullptr, false);
  if (j.is_discarded()) return 0;  // not JSON: the command refuses it before the space is read
  fuzz::expect_clean([&] {
    const roofline::search::Space s = roofline::search::parse_space(j, "fuzz.json");
    roofline::search::SpaceContext c;
    c.moe = c.draft = c.fp8_compute = true;
    const auto all = roofline::search::enumerate(s, c);
    for (const auto& d : all)
      if (d.gpus() > c.gpus || d.max_batch < 1) __builtin_trap();
  });
  return 0;
}
