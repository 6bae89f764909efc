// common/: the base error, strict numbers, quantiles, reading a file, strict JSON fields.
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/csv_line.hpp"
#include "common/input_error.hpp"
#include "common/json_fields.hpp"
#include "common/quantile.hpp"
#include "common/strict_number.hpp"
#include "common/text_file.hpp"
#include "test_support.hpp"

namespace {

using common::NumberStatus;

TEST(InputError, ComposesOriginFieldAndProblem) {
  const common::InputError e("cfg.json", "hidden_size", "must be positive, got 0",
                             common::InputError::compose("cfg.json", "hidden_size", "must be positive, got 0"));
  EXPECT_STREQ(e.what(), "cfg.json: field 'hidden_size': must be positive, got 0");
  EXPECT_EQ(e.origin(), "cfg.json");
  EXPECT_EQ(e.field(), "hidden_size");
  EXPECT_EQ(e.problem(), "must be positive, got 0");
  EXPECT_EQ(common::InputError::compose("x.json", "", "is empty"), "x.json: is empty");
}

TEST(StrictNumber, IntegersTakeTheWholeTextOnly) {
  EXPECT_EQ(common::parse_int64("4096").value, 4096);
  EXPECT_EQ(common::parse_int64("-12").value, -12);
  EXPECT_TRUE(common::parse_int64("0").ok());
  for (const char* bad : {"", " 1", "1 ", "+1", "1.5", "1e3", "12x", "0x10", "--1"})
    EXPECT_EQ(common::parse_int64(bad).status, NumberStatus::malformed) << bad;
  EXPECT_EQ(common::parse_int64("9223372036854775807").value, std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(common::parse_int64("9223372036854775808").status, NumberStatus::out_of_range);
  EXPECT_EQ(common::parse_int64("-99999999999999999999").status, NumberStatus::out_of_range);
}

TEST(StrictNumber, RealsAreFiniteAndWhole) {
  EXPECT_DOUBLE_EQ(common::parse_real("0.5").value, 0.5);
  EXPECT_DOUBLE_EQ(common::parse_real("3e12").value, 3e12);
  EXPECT_DOUBLE_EQ(common::parse_real("-2").value, -2);
  for (const char* bad : {"", "1,5", "1.5s", " 2", "+2", "e3", "."})
    EXPECT_EQ(common::parse_real(bad).status, NumberStatus::malformed) << bad;
  EXPECT_EQ(common::parse_real("1e999").status, NumberStatus::out_of_range);
  for (const char* odd : {"inf", "nan", "-inf", "infinity"})
    EXPECT_EQ(common::parse_real(odd).status, NumberStatus::not_finite) << odd;
}

TEST(StrictNumber, IntegerInRangeSaysWhatIsWrong) {
  std::int64_t v = -1;
  EXPECT_EQ(common::integer_in_range("12", 1, 64, v), "");
  EXPECT_EQ(v, 12);
  EXPECT_EQ(common::integer_in_range("0", 1, 64, v), "must be in [1, 64], got 0");
  EXPECT_EQ(common::integer_in_range("12x", 1, 64, v), "expected an integer, got '12x'");
  EXPECT_EQ(common::integer_in_range("99999999999999999999", 1, 64, v),
            "'99999999999999999999' is out of range (at most 64)");
  EXPECT_EQ(v, 12);  // untouched by a refused text
}

TEST(Quantile, InterpolatesBetweenOrderStatistics) {
  EXPECT_DOUBLE_EQ(common::quantile({3, 1, 2}, 0.5), 2);
  EXPECT_DOUBLE_EQ(common::quantile({1, 2, 3, 4}, 0.5), 2.5);
  EXPECT_DOUBLE_EQ(common::quantile({0, 10}, 0.9), 9);  // rank 0.9 of 1: 0 + 0.9 x 10
  EXPECT_DOUBLE_EQ(common::quantile({7}, 0.99), 7);
  const std::vector<double> sorted = {1, 2, 3, 4, 5};
  EXPECT_DOUBLE_EQ(common::quantile_of_sorted(sorted, 0), 1);
  EXPECT_DOUBLE_EQ(common::quantile_of_sorted(sorted, 1), 5);
  EXPECT_DOUBLE_EQ(common::quantile_of_sorted(sorted, 0.9), 4.6);  // rank 3.6: 4 + 0.6 x 1
}

TEST(TextFile, ReadsAFileAndRefusesDirectoriesAndMissingPaths) {
  const auto dir = temp_dir("common_text");
  const auto file = dir / "a.txt";
  std::ofstream(file) << "line\n";
  EXPECT_EQ(common::read_text_file(file.string()), std::optional<std::string>("line\n"));
  EXPECT_FALSE(common::read_text_file(dir.string()));
  EXPECT_FALSE(common::read_text_file((dir / "missing").string()));
}

struct FieldError : common::InputError {
  FieldError(std::string origin, std::string field, const std::string& problem)
      : InputError(origin, field, problem, compose(origin, field, problem)) {}
};

TEST(JsonFields, DimensionsAreIntegersFromOneToTheLimit) {
  const nlohmann::json j = nlohmann::json::parse(
      R"({"a": 4096, "zero": 0, "neg": -3, "big": 4294967296, "half": 1.5, "s": "x", "n": null, "t": true})");
  const std::string origin = "c.json";
  const common::JsonFields<FieldError> r{j, origin};
  EXPECT_EQ(r.required_dim("a"), 4096);
  EXPECT_FALSE(r.optional_dim("n"));  // null reads as absent
  EXPECT_FALSE(r.optional_dim("missing"));
  EXPECT_EQ(error_of([&] { r.required_dim("zero"); }), "c.json: field 'zero': must be in [1, 2147483648], got 0");
  EXPECT_EQ(error_of([&] { r.required_dim("neg"); }), "c.json: field 'neg': must be in [1, 2147483648], got -3");
  EXPECT_EQ(error_of([&] { r.required_dim("big"); }),
            "c.json: field 'big': must be in [1, 2147483648], got 4294967296");
  EXPECT_EQ(error_of([&] { r.required_dim("half"); }), "c.json: field 'half': must be a positive integer, got 1.5");
  EXPECT_EQ(error_of([&] { r.required_dim("missing"); }), "c.json: field 'missing': is required");
  EXPECT_EQ(error_of([&] { r.flag("s", false); }), "c.json: field 's': must be true or false, got \"x\"");
  EXPECT_TRUE(r.flag("t", false));
  EXPECT_EQ(error_of([&] { r.positive("zero", 1); }), "c.json: field 'zero': must be a positive number, got 0");
  EXPECT_EQ(error_of([&] { r.text("a"); }), "c.json: field 'a': must be a string, got 4096");
  EXPECT_THROW(r.required_dim("zero"), common::InputError);
}

}  // namespace

// A CSV's rows after its header: line numbers as an editor shows them, blank lines skipped, CRLF read alike; a wrong
// first line reads no row.
TEST(CsvLine, RowsAfterTheHeader) {
  std::vector<std::pair<int, std::string>> seen;
  auto record = [&](int line, const std::vector<std::string_view>& fields) {
    seen.emplace_back(line, std::string(fields.at(0)) + "|" + std::string(fields.at(1)));
  };
  EXPECT_TRUE(common::for_each_csv_row(" a,b \r\n1,2\r\n\n 3 , 4\n", "a,b", record));
  EXPECT_EQ(seen, (std::vector<std::pair<int, std::string>>{{2, "1|2"}, {4, "3|4"}}));
  seen.clear();
  EXPECT_FALSE(common::for_each_csv_row("x,y\n1,2\n", "a,b", record));
  EXPECT_FALSE(common::for_each_csv_row("", "a,b", record));
  EXPECT_TRUE(seen.empty());
}
