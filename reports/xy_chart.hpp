// Line charts and stacked bar charts, rendered through gnuplot like the roofline chart (script and data beside).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "reports/gnuplot_render.hpp"

namespace reports {

struct XYSeries {
  std::string name;
  std::vector<std::pair<double, double>> points;  // (x, y)
  bool right_axis = false;                        // plotted against the y2 axis
  bool points_only = false;                       // a scatter: markers, no joining line
  std::string color;                              // "#rrggbb"; empty: the palette's next
  bool emphasis = false;                          // large filled markers (a chosen point)
};

struct Marker {  // a labelled horizontal (y) or vertical (x) line
  std::string label;
  double at = 0;
};

struct XYChart {
  std::string title, x_label, y_label, y2_label;
  bool log_x = false, log_y = false;
  std::vector<XYSeries> series;
  std::vector<Marker> horizontal, vertical;
};

struct BarChart {  // one stacked bar per category, one segment per name
  std::string title, y_label;
  std::vector<std::string> categories;
  struct Segment {
    std::string name;
    std::vector<double> values;  // one per category
  };
  std::vector<Segment> segments;
};

std::string gnuplot_data(const XYChart& c);
std::string gnuplot_script(const XYChart& c, const std::string& image_name, const std::string& data_name, bool svg);
ChartFiles render(const XYChart& c, const std::string& image_path);
// The chart as SVG text, for a page that inlines it (nothing is left on disk).
std::string render_svg(const XYChart& c);

std::string gnuplot_data(const BarChart& c);
std::string gnuplot_script(const BarChart& c, const std::string& image_name, const std::string& data_name, bool svg);
ChartFiles render(const BarChart& c, const std::string& image_path);
// The chart as SVG text, for a page that inlines it (nothing is left on disk).
std::string render_svg(const BarChart& c);

}  // namespace reports
