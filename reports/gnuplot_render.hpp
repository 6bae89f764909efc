// Running gnuplot on a generated script and data file: the image, the script (.gp) and the data (.dat) are
// written side by side, each whole or not at all, so a user can restyle the script and re-run it.
#pragma once

#include <functional>
#include <stdexcept>
#include <string>

namespace reports {

class ChartError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Files a rendering writes: the image, and beside it <stem>.gp and <stem>.dat.
struct ChartFiles {
  std::string image, script, data;
};
ChartFiles chart_files(const std::string& image_path);

// Writes the script for an image and a data file named relative to the script's folder.
using ScriptWriter = std::function<std::string(const std::string& image_name, const std::string& data_name, bool svg)>;

// Renders image_path (.png or .svg) with gnuplot; throws ChartError (bad extension or folder, gnuplot failure).
ChartFiles render_with_gnuplot(const std::string& image_path, const std::string& data_text, const ScriptWriter& script);

// Renders an SVG in a private temporary folder and returns its text (the folder is removed, whatever happens);
// for a page that inlines the chart. Throws ChartError.
std::string render_svg_text(const std::string& data_text, const ScriptWriter& script);

// The charts' font, DejaVu Sans, at kChartFontPt: pngcairo renders a point as 96/72 pixels while the svg
// terminal takes sizes in pixels, so the svg sizes are scaled to match and a chart looks the same, and its
// labels fit the same, in both formats.
constexpr double kChartFontPt = 11;
double font_px(double points);
std::string font_size(bool svg, double points);  // what a gnuplot font string takes: "9" (png), "12" (svg)

// The terminal line for an image of the given size: pngcairo or svg, no enhanced text (op names have '_'), and
// pngcairo's points scaled to the size svg draws them.
std::string terminal_line(bool svg, int width_px, int height_px);
// gnuplot single-quoted string; numbers with every digit a double holds.
std::string gnuplot_quoted(const std::string& s);
std::string gnuplot_number(double v);

}  // namespace reports
