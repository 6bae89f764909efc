// A measurement of this host (`roofline measure-host`) for people: its peaks and each memory level's bandwidth
// on one thread and on all, with the cache sizes the system reports beside the measured knees. (The profile
// itself is hardware::to_json of the measurement's profile.)
#pragma once

#include <string>

#include "hardware/host/measure.hpp"

namespace roofline {

std::string render_table(const hardware::host::HostMeasurement& m);

}  // namespace roofline
