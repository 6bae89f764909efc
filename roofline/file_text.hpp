// A file's whole contents: each reader of roofline/ (a trace, a validation JSON, a measured CSV, a model
// config) reports an unreadable file with its own typed error, so this returns nothing instead of throwing.
#pragma once

#include <fstream>
#include <optional>
#include <sstream>
#include <string>

namespace roofline {

inline std::optional<std::string> read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace roofline
