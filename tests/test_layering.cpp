// The include graph points one way: common/ at the bottom; the four leaves (hardware, opmodel, engine,
// reports) on common/ only, never on one another; roofline/'s rooms on the leaves and on the rooms below them
// (core <- simulate, validate <- present <- cli), validate the only room that reaches the engine. Read from the
// sources themselves, so a new #include that runs back up fails here.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "test_support.hpp"

namespace {

namespace fs = std::filesystem;

// What each folder's files may include (project headers only; the folder itself always).
const std::map<std::string, std::set<std::string>>& allowed() {
  static const std::map<std::string, std::set<std::string>> rules = {
      {"common", {}},
      {"hardware", {"common"}},
      {"opmodel", {"common"}},
      {"engine", {"common"}},
      {"reports", {"common"}},
      {"roofline/core", {"common", "hardware", "opmodel"}},
      {"roofline/simulate", {"common", "hardware", "opmodel", "reports", "roofline/core"}},
      {"roofline/search", {"common", "hardware", "opmodel", "reports", "roofline/core", "roofline/simulate"}},
      {"roofline/validate", {"common", "hardware", "opmodel", "engine", "roofline/core"}},
      {"roofline/present",
       {"common", "hardware", "opmodel", "reports", "roofline/core", "roofline/simulate", "roofline/search",
        "roofline/validate"}},
      {"roofline/cli",
       {"common", "hardware", "opmodel", "engine", "reports", "roofline/core", "roofline/simulate",
        "roofline/search", "roofline/validate", "roofline/present"}},
  };
  return rules;
}

// The folder (a key of allowed()) a project path like "roofline/core/x.hpp" or "hardware/host/y.hpp" is in.
std::string folder_of(const std::string& path) {
  const auto slash = path.find('/');
  if (slash == std::string::npos) return {};
  const std::string top = path.substr(0, slash);
  if (top != "roofline") return top;
  const auto second = path.find('/', slash + 1);
  return second == std::string::npos ? top : path.substr(0, second);
}

// Every include of a project header that the rules forbid, as "file: #include \"target\"".
std::vector<std::string> violations(const fs::path& root) {
  static const std::regex include(R"re(^\s*#\s*include\s*"([^"]+)")re");
  std::vector<std::string> found;
  for (const auto& [folder, ok] : allowed()) {
    if (!fs::exists(root / folder)) continue;
    for (const auto& entry : fs::recursive_directory_iterator(root / folder)) {
      const auto ext = entry.path().extension();
      if (!entry.is_regular_file() || (ext != ".hpp" && ext != ".cpp")) continue;
      const std::string rel = fs::relative(entry.path(), root).generic_string();
      if (folder_of(rel) != folder) continue;  // roofline/x/... is judged under its own room
      std::ifstream in(entry.path());
      std::string line;
      std::smatch m;
      while (std::getline(in, line)) {
        if (!std::regex_search(line, m, include)) continue;
        const std::string target = m[1];
        const std::string to = folder_of(target);
        if (!allowed().count(to) && to != "roofline") continue;  // a local or system header
        if (to != folder && !ok.count(to)) found.push_back(rel + ": #include \"" + target + "\"");
      }
    }
  }
  return found;
}

TEST(Layering, NoIncludeRunsBackUp) {
  const auto v = violations(ROOFLINE_SOURCE_DIR);
  EXPECT_TRUE(v.empty()) << [&] {
    std::string s;
    for (const auto& x : v) s += x + "\n";
    return s;
  }();
}

TEST(Layering, EveryRoomOfRooflineHasARule) {
  // A new room (roofline/search/, say) must say what it may use before it holds code.
  for (const auto& entry : fs::directory_iterator(fs::path(ROOFLINE_SOURCE_DIR) / "roofline")) {
    if (!entry.is_directory()) continue;
    EXPECT_TRUE(allowed().count("roofline/" + entry.path().filename().string())) << entry.path();
  }
}

TEST(Layering, APlantedBackEdgeIsFound) {
  const auto root = temp_dir("layering");
  auto write = [&](const std::string& rel, const std::string& text) {
    fs::create_directories((root / rel).parent_path());
    std::ofstream(root / rel) << text;
  };
  write("opmodel/a.hpp", "#include \"common/input_error.hpp\"\n#include <vector>\n#include \"opmodel/b.hpp\"\n");
  write("roofline/core/c.cpp", "#include \"roofline/core/c.hpp\"\n#include \"opmodel/a.hpp\"\n");
  EXPECT_TRUE(violations(root).empty());
  write("opmodel/bad.cpp", "  #include \"hardware/profile.hpp\"\n");             // leaf on leaf
  write("roofline/core/bad.hpp", "#include \"roofline/validate/validation.hpp\"\n");  // up the rooms
  write("roofline/simulate/bad.cpp", "#include \"engine/probe.hpp\"\n");              // engine outside validate
  write("common/bad.hpp", "#include \"reports/units.hpp\"\n");                        // common on a leaf
  const auto v = violations(root);
  ASSERT_EQ(v.size(), 4u);
  EXPECT_NE(std::find(v.begin(), v.end(), "roofline/core/bad.hpp: #include \"roofline/validate/validation.hpp\""),
            v.end());
  EXPECT_NE(std::find(v.begin(), v.end(), "opmodel/bad.cpp: #include \"hardware/profile.hpp\""), v.end());
}

}  // namespace
