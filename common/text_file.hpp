// A file's whole contents. Each reader reports an unreadable file with its own typed error (naming the file
// and why), so this returns nothing instead of throwing.
#pragma once

#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

namespace common {

// nullopt when the path cannot be opened as a regular file (missing, unreadable, or a directory).
inline std::optional<std::string> read_text_file(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return std::nullopt;
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Why read_text_file(path) gave nothing, for an error message: "is a directory, not a file" or
// "cannot open file".
inline std::string unreadable_reason(const std::string& path) {
  std::error_code ec;
  return std::filesystem::is_directory(path, ec) ? "is a directory, not a file" : "cannot open file";
}

}  // namespace common
