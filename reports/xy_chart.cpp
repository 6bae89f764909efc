#include "reports/xy_chart.hpp"

#include <stdexcept>

#include <fmt/format.h>

namespace reports {
namespace {

constexpr int kWidthPx = 1200, kHeightPx = 750;
constexpr const char* kPalette[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf",
                                    "#e377c2", "#7f7f7f", "#bcbd22"};

std::string header(const std::string& title, const std::string& image_name, bool svg) {
  return fmt::format("# regenerate with: gnuplot {}.gp\n{}set output {}\nset title {}\nset grid lc rgb '#dddddd'\n",
                     image_name.substr(0, image_name.rfind('.')), terminal_line(svg, kWidthPx, kHeightPx),
                     gnuplot_quoted(image_name), gnuplot_quoted(title));
}

template <class Chart>
ScriptWriter script_writer(const Chart& c) {
  return [&c](const std::string& image, const std::string& data, bool svg) { return gnuplot_script(c, image, data, svg); };
}

void check_not_empty(const XYChart& c, const std::string& where) {
  if (c.series.empty()) throw ChartError("chart '" + where + "': nothing to plot");
}
void check_not_empty(const BarChart& c, const std::string& where) {
  if (c.categories.empty() || c.segments.empty()) throw ChartError("chart '" + where + "': nothing to plot");
}

}  // namespace

std::string gnuplot_data(const XYChart& c) {
  std::string d;
  for (const auto& s : c.series) {
    d += fmt::format("# {}\n", s.name);
    for (const auto& [x, y] : s.points) d += gnuplot_number(x) + " " + gnuplot_number(y) + "\n";
    if (s.points.empty()) d += "NaN NaN\n";
    d += "\n\n";
  }
  return d;
}

std::string gnuplot_script(const XYChart& c, const std::string& image_name, const std::string& data_name, bool svg) {
  std::string s = header(c.title, image_name, svg);
  s += fmt::format("set xlabel {}\nset ylabel {}\n", gnuplot_quoted(c.x_label), gnuplot_quoted(c.y_label));
  if (c.log_x) s += "set logscale x 2\n";
  if (c.log_y) s += "set logscale y\n";
  bool y2 = false;
  for (const auto& se : c.series) y2 = y2 || se.right_axis;
  if (y2) s += fmt::format("set y2label {}\nset y2tics\nset ytics nomirror\n", gnuplot_quoted(c.y2_label));
  s += "set key outside right top box opaque\nset yrange [0:*]\n";
  if (y2) s += "set y2range [0:*]\n";
  if (c.log_y) s += "set yrange [*:*]\n";
  for (const auto& m : c.horizontal)
    s += fmt::format("set arrow from graph 0, first {0} to graph 1, first {0} nohead lw 2 dt 2 lc rgb '#000000'\n"
                     "set label {1} at graph 0.02, first {0} offset 0,0.7 tc rgb '#000000'\n",
                     gnuplot_number(m.at), gnuplot_quoted(m.label));
  for (const auto& m : c.vertical)
    s += fmt::format("set arrow from first {0}, graph 0 to first {0}, graph 1 nohead lw 2 dt 3 lc rgb '#555555'\n"
                     "set label {1} at first {0}, graph 0.95 right offset -0.7,0 tc rgb '#555555'\n",
                     gnuplot_number(m.at), gnuplot_quoted(m.label));
  s += "plot \\\n";
  for (std::size_t i = 0; i < c.series.size(); ++i) {
    s += fmt::format("  {} index {} with {} lc rgb '{}' axes {} title {}{}", gnuplot_quoted(data_name), i,
                     c.series[i].emphasis      ? "points pt 7 ps 2.2"
                     : c.series[i].points_only ? "points pt 6 ps 0.8"
                                               : "linespoints lw 2 pt 7",
                     c.series[i].color.empty() ? kPalette[i % std::size(kPalette)] : c.series[i].color.c_str(),
                     c.series[i].right_axis ? "x1y2" : "x1y1",
                     gnuplot_quoted(c.series[i].name), i + 1 < c.series.size() ? ", \\\n" : "\n");
  }
  return s + "unset output\n";
}

ChartFiles render(const XYChart& c, const std::string& image_path) {
  check_not_empty(c, image_path);
  return render_with_gnuplot(image_path, gnuplot_data(c), script_writer(c));
}

std::string render_svg(const XYChart& c) {
  check_not_empty(c, "(inline svg)");
  return render_svg_text(gnuplot_data(c), script_writer(c));
}

std::string gnuplot_data(const BarChart& c) {
  // One row per category, one column per segment (gnuplot's rowstacked histogram).
  std::string d = "category";
  for (const auto& seg : c.segments) d += fmt::format(" \"{}\"", seg.name);
  d += "\n";
  for (std::size_t i = 0; i < c.categories.size(); ++i) {
    d += fmt::format("\"{}\"", c.categories[i]);
    for (const auto& seg : c.segments) d += fmt::format(" {}", gnuplot_number(i < seg.values.size() ? seg.values[i] : 0.0));
    d += "\n";
  }
  return d;
}

std::string gnuplot_script(const BarChart& c, const std::string& image_name, const std::string& data_name, bool svg) {
  std::string s = header(c.title, image_name, svg);
  s += fmt::format("set ylabel {}\n", gnuplot_quoted(c.y_label));
  s += "set style data histograms\nset style histogram rowstacked\nset style fill solid 0.85 border -1\n";
  s += "set boxwidth 0.6\nset key outside right top box opaque\nset yrange [0:*]\n";
  // 20 distinct colours, cycled: gnuplot's default 8 would give two ops of one bar the same colour.
  s += "palette = '#1f77b4 #ff7f0e #2ca02c #d62728 #9467bd #8c564b #e377c2 #7f7f7f #bcbd22 #17becf "
       "#aec7e8 #ffbb78 #98df8a #ff9896 #c5b0d5 #c49c94 #f7b6d2 #c7c7c7 #dbdb8d #9edae5'\n";
  s += fmt::format("plot for [i=2:{}] {} using i:xtic(1) title columnheader(i) lc rgb word(palette, (i-2)%20+1)\n",
                   c.segments.size() + 1, gnuplot_quoted(data_name));
  return s + "unset output\n";
}

ChartFiles render(const BarChart& c, const std::string& image_path) {
  check_not_empty(c, image_path);
  return render_with_gnuplot(image_path, gnuplot_data(c), script_writer(c));
}

std::string render_svg(const BarChart& c) {
  check_not_empty(c, "(inline svg)");
  return render_svg_text(gnuplot_data(c), script_writer(c));
}

}  // namespace reports
