// reports/: units, tables, CSV, all-or-nothing output files.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "reports/csv.hpp"
#include "reports/output_file.hpp"
#include "reports/table.hpp"
#include "reports/units.hpp"

TEST(Units, SiPrefixesAreDecimal) {
  EXPECT_EQ(reports::si(13.5e9, "B"), "13.5 GB");
  EXPECT_EQ(reports::si(312e12, "FLOP/s"), "312 TFLOP/s");
  EXPECT_EQ(reports::si(1.0, "B"), "1.00 B");
  EXPECT_EQ(reports::si(999.96e6, "B"), "1.00 GB");  // rounding carries into the next prefix
  EXPECT_EQ(reports::si(0, "B"), "0 B");
  EXPECT_EQ(reports::duration(6.75e-3), "6.75 ms");
  EXPECT_EQ(reports::duration(812e-9), "812 ns");
  EXPECT_EQ(reports::percent(0.123), "12.3%");
}

TEST(Table, AlignsColumnsAndChecksWidth) {
  reports::Table t({{"op", reports::Align::left}, {"time"}});
  t.add_row({"q_proj", "1 ms"});
  t.add_row({"x", "100 ms"});
  t.add_footer({"total", "101 ms"});
  EXPECT_EQ(t.render(), "op        time\n--------------\nq_proj    1 ms\nx       100 ms\n--------------\ntotal   101 ms\n");
  EXPECT_THROW(t.add_row({"only one"}), std::invalid_argument);
}

TEST(Csv, QuotesWhatNeedsIt) {
  EXPECT_EQ(reports::csv_row({"a", "b,c", "say \"hi\""}), "a,\"b,c\",\"say \"\"hi\"\"\"\n");
}

TEST(OutputFile, WritesWholeOrNothing) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / "roofline_test_output";
  fs::create_directories(dir);
  const std::string path = (dir / "out.json").string();
  reports::write_file_atomically(path, "{}\n");
  std::ifstream in(path);
  std::string content((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(content, "{}\n");
  // A missing directory is an error naming the path, and leaves nothing behind.
  const std::string bad = (dir / "missing" / "out.json").string();
  try {
    reports::write_file_atomically(bad, "x");
    FAIL();
  } catch (const reports::OutputError& e) {
    EXPECT_NE(std::string(e.what()).find(bad), std::string::npos);
  }
  EXPECT_FALSE(fs::exists(bad));
  for (const auto& entry : fs::directory_iterator(dir)) EXPECT_EQ(entry.path().filename(), "out.json");
  fs::remove_all(dir);
}
