#include "engine/safetensors.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "engine/error.hpp"
#include "engine/linear.hpp"

namespace engine {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

constexpr std::uint64_t kMaxHeader = 100u << 20;  // the format's own limit: 100 MB of JSON

int dtype_size(const std::string& dtype) {
  static const std::map<std::string, int, std::less<>> sizes = {
      {"BOOL", 1}, {"U8", 1},  {"I8", 1},  {"F8_E5M2", 1}, {"F8_E4M3", 1}, {"I16", 2}, {"U16", 2}, {"F16", 2},
      {"BF16", 2}, {"I32", 4}, {"U32", 4}, {"F32", 4},     {"F64", 8},     {"I64", 8}, {"U64", 8}};
  auto it = sizes.find(dtype);
  return it == sizes.end() ? 0 : it->second;
}

std::uint64_t read_le64(const unsigned char* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

}  // namespace

std::int64_t TensorInfo::elements() const {
  std::int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

SafetensorsFile::SafetensorsFile(const std::string& path) : path_(path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) throw EngineError(path, "", fmt::format("cannot open file: {}", std::strerror(errno)));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    throw EngineError(path, "", "cannot stat file");
  }
  size_ = std::size_t(st.st_size);
  if (size_ < 8) {
    ::close(fd);
    throw EngineError(path, "header size", fmt::format("file is {} bytes, too short for the 8-byte header size", size_));
  }
  void* m = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (m == MAP_FAILED) throw EngineError(path, "", "cannot map file");
  map_ = static_cast<const unsigned char*>(m);

  auto fail = [&](const std::string& field, const std::string& problem) {
    ::munmap(const_cast<unsigned char*>(map_), size_);
    map_ = nullptr;
    throw EngineError(path, field, problem);
  };
  const std::uint64_t n = read_le64(map_);
  if (n > kMaxHeader || n > size_ - 8)
    fail("header size", fmt::format("says {} bytes of header, the file has {} after the size field", n, size_ - 8));
  data_start_ = 8 + std::size_t(n);
  const std::uint64_t data_size = size_ - data_start_;
  json header;
  try {
    header = json::parse(map_ + 8, map_ + 8 + n);
  } catch (const json::exception& e) {
    fail("header", fmt::format("malformed JSON: {}", e.what()));
  }
  if (!header.is_object()) fail("header", "must be a JSON object");

  std::vector<std::pair<std::uint64_t, std::uint64_t>> ranges;
  for (const auto& [name, t] : header.items()) {
    if (name == "__metadata__") continue;
    if (!t.is_object()) fail(name, "must be an object with dtype, shape and data_offsets");
    TensorInfo info;
    const auto dt = t.find("dtype");
    if (dt == t.end() || !dt->is_string()) fail(name + ".dtype", "missing or not a string");
    info.dtype = dt->get<std::string>();
    const int esize = dtype_size(info.dtype);
    if (esize == 0) fail(name + ".dtype", fmt::format("unknown dtype '{}'", info.dtype));
    const auto sh = t.find("shape");
    if (sh == t.end() || !sh->is_array()) fail(name + ".shape", "missing or not an array");
    std::uint64_t elements = 1;
    for (const auto& d : *sh) {
      if (!d.is_number_integer() || (d.is_number_integer() && !d.is_number_unsigned() && d.get<std::int64_t>() < 0))
        fail(name + ".shape", fmt::format("must hold non-negative integers, got {}", sh->dump()));
      const auto v = d.get<std::uint64_t>();
      if (v != 0 && elements > std::numeric_limits<std::uint64_t>::max() / 8 / v)
        fail(name + ".shape", fmt::format("{} overflows", sh->dump()));
      elements *= v;
      info.shape.push_back(std::int64_t(v));
    }
    const auto off = t.find("data_offsets");
    if (off == t.end() || !off->is_array() || off->size() != 2 || !(*off)[0].is_number_unsigned() ||
        !(*off)[1].is_number_unsigned())
      fail(name + ".data_offsets", "must be [begin, end] with non-negative integers");
    info.begin = (*off)[0].get<std::uint64_t>();
    info.end = (*off)[1].get<std::uint64_t>();
    if (info.begin > info.end || info.end > data_size)
      fail(name + ".data_offsets", fmt::format("[{}, {}] lies outside the {} bytes of data (file truncated?)",
                                               info.begin, info.end, data_size));
    if (info.end - info.begin != elements * std::uint64_t(esize))
      fail(name + ".data_offsets", fmt::format("span {} bytes, but shape {} of {} needs {}", info.end - info.begin,
                                               sh->dump(), info.dtype, elements * std::uint64_t(esize)));
    ranges.emplace_back(info.begin, info.end);
    tensors_.emplace(name, std::move(info));
  }
  std::sort(ranges.begin(), ranges.end());
  for (std::size_t i = 1; i < ranges.size(); ++i)
    if (ranges[i].first < ranges[i - 1].second)
      fail("data_offsets", fmt::format("tensors overlap at byte {}", ranges[i].first));
}

SafetensorsFile::~SafetensorsFile() {
  if (map_) ::munmap(const_cast<unsigned char*>(map_), size_);
}

Buffer<float> SafetensorsFile::read_f32(const std::string& name, const std::vector<std::int64_t>& shape) const {
  auto it = tensors_.find(name);
  if (it == tensors_.end()) throw EngineError(path_, name, "tensor not in the file");
  const TensorInfo& t = it->second;
  if (t.shape != shape)
    throw EngineError(path_, name, fmt::format("shape [{}] where the config implies [{}]", fmt::join(t.shape, ", "),
                                               fmt::join(shape, ", ")));
  const auto n = std::size_t(t.elements());
  Buffer<float> out(n);
  const unsigned char* src = map_ + data_start_ + t.begin;
  if (t.dtype == "F32") {
    std::memcpy(out.data(), src, n * 4);
  } else if (t.dtype == "BF16" || t.dtype == "F16") {
    const bool bf = t.dtype == "BF16";
    for (std::size_t i = 0; i < n; ++i) {
      const auto h = std::uint16_t(src[2 * i] | (src[2 * i + 1] << 8));
      out[i] = bf ? bf16_to_float(h) : half_to_float(h);
    }
  } else {
    throw EngineError(path_, name + ".dtype", fmt::format("{} is not supported (the engine reads F32, F16, BF16)", t.dtype));
  }
  // A NaN or an infinity in a weight poisons every logit it reaches; the sampler would then emit token 0
  // without a word. Name the tensor and the first bad element instead.
  for (std::size_t i = 0; i < n; ++i)
    if (!std::isfinite(out[i]))
      throw EngineError(path_, name, fmt::format("element {} is {} (weights must be finite)", i, out[i]));
  return out;
}

Checkpoint::Checkpoint(const std::string& path) : origin_(path) {
  fs::path p(path);
  fs::path index;
  if (fs::is_directory(p)) {
    if (fs::exists(p / "model.safetensors"))
      p /= "model.safetensors";
    else if (fs::exists(p / "model.safetensors.index.json"))
      index = p / "model.safetensors.index.json";
    else
      throw EngineError(path, "", "directory has neither model.safetensors nor model.safetensors.index.json");
  } else if (p.extension() == ".json") {
    index = p;
  }
  if (index.empty()) {
    if (!fs::exists(p)) throw EngineError(path, "", "no such file");
    files_.push_back(std::make_unique<SafetensorsFile>(p.string()));
    for (const auto& [name, info] : files_.back()->tensors()) where_[name] = files_.back().get();
    return;
  }
  std::ifstream in(index);
  if (!in) throw EngineError(index.string(), "", "cannot open file");
  std::ostringstream ss;
  ss << in.rdbuf();
  json j;
  try {
    j = json::parse(ss.str());
  } catch (const json::exception& e) {
    throw EngineError(index.string(), "", fmt::format("malformed JSON: {}", e.what()));
  }
  if (!j.is_object() || !j.contains("weight_map") || !j["weight_map"].is_object())
    throw EngineError(index.string(), "weight_map", "missing or not an object");
  std::map<std::string, const SafetensorsFile*> shards;
  for (const auto& [name, file] : j["weight_map"].items()) {
    if (!file.is_string()) throw EngineError(index.string(), "weight_map." + name, "must be a file name");
    const std::string shard = file.get<std::string>();
    if (shard.find('/') != std::string::npos || shard.find("..") != std::string::npos)
      throw EngineError(index.string(), "weight_map." + name, fmt::format("'{}' is not a file beside the index", shard));
    if (!shards.count(shard)) {
      files_.push_back(std::make_unique<SafetensorsFile>((index.parent_path() / shard).string()));
      shards[shard] = files_.back().get();
    }
    if (!shards[shard]->tensors().count(name))
      throw EngineError(index.string(), "weight_map." + name, fmt::format("tensor is not in shard {}", shard));
    where_[name] = shards[shard];
  }
}

Buffer<float> Checkpoint::read_f32(const std::string& name, const std::vector<std::int64_t>& shape) const {
  auto it = where_.find(name);
  if (it == where_.end()) throw EngineError(origin_, name, "tensor missing from the checkpoint");
  return it->second->read_f32(name, shape);
}

void write_safetensors(const std::string& path, const std::vector<NamedTensor>& tensors) {
  json header = json::object();
  std::uint64_t offset = 0;
  for (const auto& t : tensors) {
    std::uint64_t n = 1;
    for (auto d : t.shape) n *= std::uint64_t(d);
    header[t.name] = {{"dtype", "F32"}, {"shape", t.shape}, {"data_offsets", {offset, offset + 4 * n}}};
    offset += 4 * n;
  }
  header["__metadata__"] = {{"format", "pt"}};
  std::string text = header.dump();
  while ((8 + text.size()) % 8 != 0) text += ' ';  // data aligned to 8 bytes, as the reference writer pads
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary);
    if (!out) throw EngineError(path, "", "cannot create file");
    unsigned char size[8];
    for (int i = 0; i < 8; ++i) size[i] = static_cast<unsigned char>((std::uint64_t(text.size()) >> (8 * i)) & 0xff);
    out.write(reinterpret_cast<const char*>(size), 8);
    out.write(text.data(), std::streamsize(text.size()));
    for (const auto& t : tensors) {
      std::int64_t n = 1;
      for (auto d : t.shape) n *= d;
      out.write(reinterpret_cast<const char*>(t.data), std::streamsize(n * 4));
    }
    if (!out) throw EngineError(path, "", "write failed");
  }
  fs::rename(tmp, path);
}

}  // namespace engine
