// What the fuzz targets share: the input as text, a scratch file per process, and "a typed error is a
// correct answer": a target returns normally when the library under test refuses its input with the error it
// documents; any other exception, crash, leak or undefined behaviour is a finding.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "common/input_error.hpp"

namespace fuzz {

inline std::string text_of(const std::uint8_t* data, std::size_t size) {
  return std::string(reinterpret_cast<const char*>(data), size);
}

// A file of this process's own, in memory where the system has /dev/shm (a file is written per input), else
// under the temporary directory; rewritten with each input.
inline std::filesystem::path scratch(const std::string& name) {
  struct Dir {  // removed when the fuzzer exits
    std::filesystem::path path;
    Dir() {
      std::error_code ec;
      const auto base = std::filesystem::is_directory("/dev/shm", ec) ? std::filesystem::path("/dev/shm")
                                                                       : std::filesystem::temp_directory_path();
      path = base / ("roofline_fuzz_" + std::to_string(::getpid()));
      std::filesystem::create_directories(path);
    }
    ~Dir() {
      std::error_code ec;
      std::filesystem::remove_all(path, ec);
    }
  };
  static const Dir dir;
  return dir.path / name;
}

inline void write_file(const std::filesystem::path& p, const std::string& bytes) {
  std::ofstream(p, std::ios::binary | std::ios::trunc) << bytes;
}

// Runs f; the typed errors of bad input are expected outcomes.
template <class F>
void expect_clean(F&& f) {
  try {
    f();
  } catch (const common::InputError&) {
  }
}

}  // namespace fuzz
