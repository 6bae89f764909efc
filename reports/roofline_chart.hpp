// A roofline chart as data (roofs, slopes, points, lines), rendered through gnuplot to PNG or SVG, with
// the gnuplot script and data file written beside the image so a user can restyle and re-run it.
#pragma once

#include <string>
#include <vector>

#include "reports/gnuplot_render.hpp"
#include "reports/label_placer.hpp"

namespace reports {

struct Ceiling {  // a horizontal compute roof
  std::string label;          // "fp16 312 TFLOP/s"
  double flops_per_s = 0;
  std::string group;          // which device it belongs to (one colour per group)
};

struct Slope {  // a bandwidth roof: y = bytes_per_s * x, up to the group's highest ceiling
  std::string label;          // "HBM 2.04 TB/s"
  double bytes_per_s = 0;
  std::string group;
};

struct ChartPoint {
  double x = 0, y = 0;   // FLOP/B, FLOP/s
  std::string label;     // shown beside the point when it fits; empty for none
};

struct PointSeries {
  std::string name;      // legend entry
  std::vector<ChartPoint> points;
  int marker = 7;        // gnuplot point type
  std::string group;
  std::string color;     // "#rrggbb" to pair it with other series; empty: the next palette colour (or its group's)
};

struct Polyline {  // joins points (a batch sweep, measured vs predicted)
  std::vector<ChartPoint> points;
  std::string group;
  std::string color;     // "#rrggbb"; empty: its group's colour
  bool pairs = false;    // a separate segment per two points, not one line through all (one plot entry for many)
};

struct RooflineChart {
  std::string title;
  std::vector<Ceiling> ceilings;
  std::vector<Slope> slopes;
  std::vector<PointSeries> series;
  std::vector<Polyline> lines;
  std::vector<std::string> notes;  // comment lines at the top of the data file: where its points came from
};

// The gnuplot script and data for the chart; `image_name` is what `set output` names (relative to the script).
std::string gnuplot_script(const RooflineChart& c, const std::string& image_name, const std::string& data_name,
                           bool svg);
std::string gnuplot_data(const RooflineChart& c);

// Where the point labels go (reports/label_placer.hpp) on this chart's plot area; gnuplot_data writes them.
LabelLayout label_layout(const RooflineChart& c);

// Renders to image_path (.png or .svg) and writes the script and data beside it. All three are written
// whole or not at all; throws ChartError (unknown extension, gnuplot failure) naming the path.
ChartFiles render(const RooflineChart& c, const std::string& image_path);
// The chart as SVG text, for a page that inlines it (nothing is left on disk).
std::string render_svg(const RooflineChart& c);

}  // namespace reports
