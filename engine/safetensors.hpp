// Safetensors checkpoints as Hugging Face writes them: one model.safetensors, or shards listed by
// model.safetensors.index.json. Format: 8-byte little-endian header size N, N bytes of JSON
// {name: {dtype, shape, data_offsets: [begin, end)}, "__metadata__": {...}}, then the data, offsets relative
// to its start. Every field is checked against the file before a byte of data is read.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/buffer.hpp"

namespace engine {

struct TensorInfo {
  std::string dtype;  // "F32", "F16", "BF16", ... as written
  std::vector<std::int64_t> shape;
  std::uint64_t begin = 0, end = 0;  // byte range within the data section
  std::int64_t elements() const;
};

// One .safetensors file, memory-mapped read-only.
class SafetensorsFile {
 public:
  explicit SafetensorsFile(const std::string& path);  // throws EngineError naming the file and field
  ~SafetensorsFile();
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;

  const std::string& path() const { return path_; }
  const std::map<std::string, TensorInfo>& tensors() const { return tensors_; }
  // The tensor as fp32 (from F32, F16 or BF16), checked to have `shape`.
  Buffer<float> read_f32(const std::string& name, const std::vector<std::int64_t>& shape) const;

 private:
  std::string path_;
  const unsigned char* map_ = nullptr;
  std::size_t size_ = 0;
  std::size_t data_start_ = 0;
  std::map<std::string, TensorInfo> tensors_;
};

// A checkpoint: a model.safetensors file, a directory holding one, or a sharded directory (or index file).
class Checkpoint {
 public:
  explicit Checkpoint(const std::string& path);
  bool has(const std::string& name) const { return where_.count(name) > 0; }
  Buffer<float> read_f32(const std::string& name, const std::vector<std::int64_t>& shape) const;
  const std::string& origin() const { return origin_; }

 private:
  std::string origin_;
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::map<std::string, const SafetensorsFile*> where_;
};

// Writes tensors as one F32 safetensors file (for tests and for saving a seeded random model).
struct NamedTensor {
  std::string name;
  std::vector<std::int64_t> shape;
  const float* data = nullptr;
};
void write_safetensors(const std::string& path, const std::vector<NamedTensor>& tensors);

}  // namespace engine
