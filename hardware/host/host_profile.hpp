// A host measurement as a hardware profile (the presets' schema, usable as `--hw host.json`): the all-cores
// figures as the roofs, the cache sizes from the system, and a "provenance" object with the rest (CPU, ISA,
// threads, date, repetitions, 1-thread figures, triad, the sweep, the knees).
#pragma once

#include <string>

#include <nlohmann/json_fwd.hpp>

#include "hardware/host/measure.hpp"
#include "hardware/profile.hpp"

namespace hardware::host {

Profile to_profile(const HostMeasurement& m, const std::string& name);
nlohmann::json provenance_json(const HostMeasurement& m);

}  // namespace hardware::host
