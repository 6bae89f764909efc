// A .safetensors file (header length, JSON header, data) read tensor by tensor, and the same bytes as a
// sharded checkpoint's model.safetensors.index.json beside one valid shard.
#include <vector>

#include "engine/safetensors.hpp"
#include "fuzz_support.hpp"

namespace {

void write_valid_shard(const std::filesystem::path& p) {
  static const std::vector<float> values = {1, 2, 3, 4};
  engine::write_safetensors(p.string(), {{"a.weight", {2, 2}, values.data()}});
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string bytes = fuzz::text_of(data, size);
  const auto file = fuzz::scratch("model.safetensors");
  fuzz::write_file(file, bytes);
  fuzz::expect_clean([&] {
    const engine::SafetensorsFile f(file.string());
    for (const auto& entry : f.tensors()) fuzz::expect_clean([&] { f.read_f32(entry.first, entry.second.shape); });
  });
  const auto dir = fuzz::scratch("sharded");
  std::filesystem::create_directories(dir);
  static const bool shard = (write_valid_shard(dir / "a.safetensors"), true);
  (void)shard;
  fuzz::write_file(dir / "model.safetensors.index.json", bytes);
  fuzz::expect_clean([&] {
    const engine::Checkpoint c(dir.string());
    if (c.has("a.weight")) c.read_f32("a.weight", {2, 2});
  });
  return 0;
}
