// Writing an output file all or nothing: into a temporary beside it, then renamed over the target,
// so a failure never leaves a partial file behind.
#pragma once

#include <stdexcept>
#include <string>

namespace reports {

class OutputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Throws OutputError naming the path if the directory is missing or the write fails.
void write_file_atomically(const std::string& path, const std::string& content);

}  // namespace reports
