// `roofline validate` on the reference engine and on times measured elsewhere: build the weights at a format,
// time the step shapes, join the records to the predictions; fit a calibration on one half of the shapes and
// judge it on the other; the sweep over every weight format.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "hardware/profile.hpp"
#include "opmodel/model_config.hpp"
#include "opmodel/scenario.hpp"
#include "roofline/validate/engine_setup.hpp"
#include "roofline/validate/report.hpp"
#include "roofline/validate/run.hpp"

namespace roofline {

// The engine at one weight format: builds the weights, times the points, joins them to the predictions.
struct EngineValidation {
  ConfigText text;
  opmodel::ModelConfig model;
  std::string checkpoint;  // empty: seeded random weights
  std::uint64_t seed = 0;
  bool tiled = true;       // flash (tiled) attention; false: naive
  EngineTiming timing;
  hardware::Profile hw;

  // base.weight_dtype must be fp32, bf16 or int8 (ValidationError otherwise).
  std::vector<ValidationRow> rows(const opmodel::Scenario& base, const std::vector<EnginePoint>& points) const;
};

// Marks each row's half (held_out true: "held-out"), fits the calibration on the fit half, applies it to every
// row and judges it on the held-out half. fitted_by: what measured the rows and when, for the calibration's
// source.
void calibrate_halves(std::vector<ValidationRow>& rows, const std::function<bool(const StepKey&)>& held_out,
                      const std::string& fitted_by, ValidationReport& report);

// The sweep (sweep.hpp) at each weight format, fp32, bf16 then int8: the weights built once per format, every
// shape timed on them, then calibrate_halves over all rows. progress: told before and after each format (a
// sweep of 7B layers takes minutes). Sets the report's rows, statistics, calibration, scenario and notes.
void sweep_formats(const EngineValidation& ev, opmodel::Scenario base, double kv_budget_gib,
                   const std::string& fitted_by, const std::function<void(const std::string&)>& progress,
                   ValidationReport& report);

// The distinct step shapes of some measurements, in order: the halves of --measured --save-profile alternate
// over them as the sweep's do.
std::vector<StepKey> distinct_shapes(const std::vector<Measurement>& measured);

}  // namespace roofline
