// What the subcommands share: usage errors, strict number parsing, and the model/hardware/scenario options
// (so `analyze`, `plot`, `simulate` read them the same way).
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/program_options.hpp>

#include "hardware/profile.hpp"
#include "roofline/core/analysis.hpp"
#include "roofline/present/charts.hpp"
#include "roofline/present/measured_chart.hpp"
#include "roofline/simulate/disaggregated.hpp"
#include "roofline/simulate/workload.hpp"
#include "roofline/validate/validation_file.hpp"

namespace roofline::cli {

namespace po = boost::program_options;

// A bad command line: main prints it with the usage hint and exits 2.
class UsageError : public std::runtime_error {
 public:
  UsageError(const std::string& option, const std::string& problem)
      : std::runtime_error("option '--" + option + "': " + problem) {}
  explicit UsageError(const std::string& message) : std::runtime_error(message) {}
};

// Decimal integer in [min, max]; rejects signs where min >= 0, fractions, junk and overflow.
std::int64_t parse_integer(const std::string& option, const std::string& text, std::int64_t min, std::int64_t max);

// Decimal number in [min, max] (finite); rejects junk.
double parse_number(const std::string& option, const std::string& text, double min, double max);

// The dtype an option names; throws UsageError listing the known ones.
opmodel::DType dtype_option(const po::variables_map& vm, const char* option);

// --wdtype --adtype --kvdtype --group-size --attn --fuse: how a step computes (shared by analyze and simulate).
void add_precision_options(po::options_description& desc);
// Sets the scenario's dtypes, group size, attention and fusions from them; throws UsageError.
void read_precision_options(const po::variables_map& vm, opmodel::Scenario& s);
// s with the model's checkpoint formats (its quantization_config) where --wdtype was not given and
// --module-wdtype left a group unset.
opmodel::Scenario with_checkpoint_formats(const po::variables_map& vm, const opmodel::ModelConfig& m,
                                          opmodel::Scenario s);

// --hw, --hw-patch FILE, --hw-set KEY=VALUE (repeatable): the hardware profile in layers (hardware/layers.hpp).
void add_hardware_options(po::options_description& desc, const char* hw_help);
// The layered profile; --hw required. A setting that does not apply is a UsageError; a bad preset, profile or
// patch file a hardware::ProfileError.
hardware::Profile hardware_profile(const po::variables_map& vm);
// The same where --hw is optional: nullopt without it (then --hw-patch, --hw-set and --force are usage errors).
std::optional<hardware::Profile> optional_hardware_profile(const po::variables_map& vm);

// --model --hw --batch --prompt --kv-len --gen --phase, the precision options, --all-logits
void add_analysis_options(po::options_description& desc);
// Builds the request from parsed options; throws UsageError.
AnalysisRequest analysis_request(const po::variables_map& vm);
std::string required(const po::variables_map& vm, const char* option);

// --compare --batch-sweep --max-context: what the charts show beside the analysis (plot, report).
void add_chart_options(po::options_description& desc);
// Resolves the compared profiles (throws hardware::ProfileError) and checks the numbers (UsageError).
ExploreSettings chart_settings(const po::variables_map& vm);

// --measured-filter --measured-points: which rows of a validate JSON the measured roofline chart shows.
void add_measured_options(po::options_description& desc);
// Reads them (throws UsageError), and checks that the filter leaves a row of the file (UsageError otherwise).
MeasuredSelection measured_selection(const po::variables_map& vm, const ValidationFile& v);

// Throws UsageError for the first of `options` given on the command line (not merely defaulted): `why` says
// why it does not apply ("the chart is drawn from the validate JSON alone").
void reject_given(const po::variables_map& vm, const std::vector<std::string>& options, const std::string& why);
// The options add_analysis_options and add_chart_options declare.
const std::vector<std::string>& analysis_option_names();

// A generated workload from --rate ('inf': all at t = 0), --requests, the two length distributions (named by
// the command: --prompt-dist/--output-dist, or --isl/--osl), --prefix-tokens and --prefixes where the command
// declares them, and --seed; throws UsageError.
sim::Workload generated_workload(const po::variables_map& vm, const char* prompt_option, const char* output_option);

// --time-model: true for "calibrated" (the profile's expectations), false for "bound"; UsageError otherwise.
bool calibrated_time_model(const po::variables_map& vm);
// --spec-tokens and --accept-rate given without --draft-model: UsageError.
void check_draft_options(const po::variables_map& vm);

// --kv-link: where a disaggregated server's KV caches travel: "interconnect" (the profile's, per direction, and
// its latency), a named line rate (ib-ndr 50 GB/s, ib-hdr 25 GB/s, eth-100g 12.5 GB/s, eth-400g 50 GB/s; latency
// 0 unless given), or GB/s per device; ":LATENCY_S" after any of them. Throws UsageError.
sim::KvLink kv_link(const po::variables_map& vm, const hardware::Profile& hw);

// Warnings of a result: with --strict the first is a UsageError; else each goes to stderr, "roofline CMD: warning:".
void handle_warnings(const po::variables_map& vm, const std::vector<std::string>& warnings, const std::string& command);

// Parses argv against desc (no positional arguments); throws UsageError on unknown or malformed options.
po::variables_map parse(int argc, const char* const* argv, const po::options_description& desc);

// Writes `content` to the file (atomically) or, when path is empty or "-", to stdout.
void emit(const std::string& path, const std::string& content);

// The current time, "2026-11-21 06:30 UTC": reports and calibrations say when they were made.
std::string utc_now();

}  // namespace roofline::cli
