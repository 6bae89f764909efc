#include "reports/roofline_chart.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>

#include <fmt/format.h>



namespace reports {
namespace {

namespace fs = std::filesystem;

constexpr int kWidthPx = 1400, kHeightPx = 900;
constexpr const char* kPalette[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf"};

std::string number(double v) { return gnuplot_number(v); }
std::string quoted(const std::string& s) { return gnuplot_quoted(s); }

struct Range {
  double xmin, xmax, ymin, ymax;
};

// Axis ranges that hold every point, every ridge and a decade of slope on each side, in whole decades.
Range range_of(const RooflineChart& c) {
  double xmin = 1e300, xmax = 0, ymin = 1e300, ymax = 0;
  auto take = [&](double x, double y) {
    if (x <= 0 || y <= 0) return;
    xmin = std::min(xmin, x);
    xmax = std::max(xmax, x);
    ymin = std::min(ymin, y);
    ymax = std::max(ymax, y);
  };
  for (const auto& s : c.series)
    for (const auto& p : s.points) take(p.x, p.y);
  for (const auto& l : c.lines)
    for (const auto& p : l.points) take(p.x, p.y);
  for (const auto& ceil : c.ceilings)
    for (const auto& sl : c.slopes)
      if (sl.group == ceil.group) take(ceil.flops_per_s / sl.bytes_per_s, ceil.flops_per_s);
  if (xmax == 0) {
    xmin = ymin = 1;
    xmax = ymax = 10;
  }
  Range r;
  r.xmin = std::pow(10, std::floor(std::log10(xmin)) - 1);
  r.xmax = std::pow(10, std::ceil(std::log10(xmax)) + 1);
  r.ymin = std::pow(10, std::floor(std::log10(ymin)) - 1);
  r.ymax = std::pow(10, std::ceil(std::log10(ymax * 3)));
  return r;
}

double top_ceiling(const RooflineChart& c, const std::string& group) {
  double top = 0;
  for (const auto& ceil : c.ceilings)
    if (ceil.group == group) top = std::max(top, ceil.flops_per_s);
  return top;
}

// The main-memory slope of a group: its first one (where its ceilings begin).
const Slope* main_slope(const RooflineChart& c, const std::string& group) {
  for (const auto& s : c.slopes)
    if (s.group == group) return &s;
  return nullptr;
}

struct PlacedLabel {
  double x, y;  // where the text starts (left-aligned), data coordinates
  std::string text;
};

// Greedy label placement in log space: try right, left, above and below each point; drop a label that
// fits nowhere (its point stays). Boxes use the font's approximate size on the plot area.
std::vector<PlacedLabel> place_labels(const RooflineChart& c, const Range& r) {
  const double xdec = std::log10(r.xmax / r.xmin), ydec = std::log10(r.ymax / r.ymin);
  const double char_w = 7.2 / (kWidthPx * 0.72) * xdec, line_h = 14.0 / (kHeightPx * 0.8) * ydec;
  struct Box {
    double x0, x1, y0, y1;
  };
  std::vector<Box> taken;
  std::vector<PlacedLabel> placed;
  for (const auto& s : c.series) {
    // Points of a series that coincide (q/k/v/o projections at decode, say) share one label.
    std::vector<ChartPoint> merged;
    for (const auto& p : s.points) {
      if (p.label.empty() || p.x <= 0 || p.y <= 0) continue;
      auto same = std::find_if(merged.begin(), merged.end(), [&](const ChartPoint& m) {
        return std::fabs(std::log10(m.x / p.x)) < 1e-3 && std::fabs(std::log10(m.y / p.y)) < 1e-3;
      });
      if (same == merged.end()) merged.push_back(p);
      else if (same->label.find(p.label) == std::string::npos) same->label += "," + p.label;
    }
    for (const auto& p : merged) {
      const double lx = std::log10(p.x), ly = std::log10(p.y), w = char_w * double(p.label.size());
      const double candidates[][2] = {{char_w, -line_h / 2},        {-w - char_w, -line_h / 2},
                                      {-w / 2, line_h * 0.6},       {-w / 2, -line_h * 1.6},
                                      {char_w, line_h * 0.7},       {char_w, -line_h * 1.7},
                                      {-w - char_w, line_h * 0.7},  {-w - char_w, -line_h * 1.7}};
      for (const auto& d : candidates) {
        Box b{lx + d[0], lx + d[0] + w, ly + d[1], ly + d[1] + line_h};
        if (b.x0 < std::log10(r.xmin) || b.x1 > std::log10(r.xmax) || b.y0 < std::log10(r.ymin) ||
            b.y1 > std::log10(r.ymax))
          continue;
        const bool clash = std::any_of(taken.begin(), taken.end(), [&](const Box& t) {
          return b.x0 < t.x1 && t.x0 < b.x1 && b.y0 < t.y1 && t.y0 < b.y1;
        });
        if (clash) continue;
        taken.push_back(b);
        placed.push_back({std::pow(10, b.x0), std::pow(10, b.y0 + line_h / 2), p.label});
        break;
      }
    }
  }
  return placed;
}

// Data blocks in order: ceilings, slopes, ridges, series, lines, labels (gnuplot `index` counts them).
struct Layout {
  std::string data;
  int blocks = 0;
};

void block(Layout& l, const std::string& comment, const std::string& rows) {
  l.data += "# " + comment + "\n" + rows;
  if (!rows.empty() && rows.back() != '\n') l.data += '\n';
  l.data += "\n\n";  // two blank lines end a gnuplot `index` block
  ++l.blocks;
}

std::string color_of(const std::map<std::string, std::string>& colors, const std::string& group) {
  auto it = colors.find(group);
  return it == colors.end() ? kPalette[0] : it->second;
}

}  // namespace

std::string gnuplot_data(const RooflineChart& c) {
  const Range r = range_of(c);
  Layout l;
  for (const auto& ceil : c.ceilings) {
    const Slope* s = main_slope(c, ceil.group);
    const double x0 = s ? ceil.flops_per_s / s->bytes_per_s : r.xmin;
    block(l, "ceiling " + ceil.label, number(x0) + " " + number(ceil.flops_per_s) + "\n" + number(r.xmax) + " " +
                                          number(ceil.flops_per_s));
  }
  for (const auto& s : c.slopes) {
    const double top = top_ceiling(c, s.group);
    const double x1 = top > 0 ? top / s.bytes_per_s : r.xmax;
    block(l, "slope " + s.label, number(r.xmin) + " " + number(s.bytes_per_s * r.xmin) + "\n" + number(x1) + " " +
                                     number(s.bytes_per_s * x1));
  }
  std::string ridges;
  for (const auto& ceil : c.ceilings)
    if (const Slope* s = main_slope(c, ceil.group))
      ridges += number(ceil.flops_per_s / s->bytes_per_s) + " " + number(ceil.flops_per_s) + "\n";
  block(l, "ridge points (x = peak / bandwidth)", ridges.empty() ? "NaN NaN" : ridges);
  for (const auto& s : c.series) {
    std::string rows;
    for (const auto& p : s.points)
      if (p.x > 0 && p.y > 0) rows += number(p.x) + " " + number(p.y) + " \"" + p.label + "\"\n";
    block(l, "series " + s.name + ": intensity FLOP/B, FLOP/s, op", rows.empty() ? "NaN NaN \"\"" : rows);
  }
  for (const auto& line : c.lines) {
    std::string rows;
    for (const auto& p : line.points)
      if (p.x > 0 && p.y > 0) rows += number(p.x) + " " + number(p.y) + "\n";
    block(l, "line", rows.empty() ? "NaN NaN" : rows);
  }
  std::string labels;
  for (const auto& p : place_labels(c, r)) labels += number(p.x) + " " + number(p.y) + " \"" + p.text + "\"\n";
  block(l, "placed labels", labels.empty() ? "NaN NaN \"\"" : labels);
  return l.data;
}

std::string gnuplot_script(const RooflineChart& c, const std::string& image_name, const std::string& data_name,
                           bool svg) {
  const Range r = range_of(c);
  // One device: a colour per line. Several: a colour per device, so its roofs and points read together.
  std::map<std::string, std::string> colors;
  auto colour_group = [&](const std::string& g) {
    if (!colors.count(g)) colors[g] = kPalette[colors.size() % std::size(kPalette)];
  };
  for (const auto& x : c.ceilings) colour_group(x.group);
  for (const auto& x : c.slopes) colour_group(x.group);
  for (const auto& x : c.series) colour_group(x.group);
  const bool one_device = colors.size() <= 1;
  std::size_t next_colour = 0;
  auto colour = [&](const std::string& group) {
    return one_device ? std::string(kPalette[next_colour++ % std::size(kPalette)]) : color_of(colors, group);
  };

  std::string s = "# Roofline chart; regenerate with: gnuplot " + fs::path(image_name).stem().string() + ".gp\n";
  s += terminal_line(svg, kWidthPx, kHeightPx);
  s += "set output " + quoted(image_name) + "\n";
  s += "set title " + quoted(c.title) + "\n";
  s += "set logscale xy\nset grid xtics ytics mxtics mytics lc rgb '#dddddd'\n";
  s += "set xlabel 'Arithmetic intensity (FLOP/B)'\nset ylabel 'Attainable performance (FLOP/s)'\n";
  s += "set format x '%g'\nset format y '%.0s %cFLOP/s'\n";
  s += fmt::format("set xrange [{}:{}]\nset yrange [{}:{}]\n", number(r.xmin), number(r.xmax), number(r.ymin),
                   number(r.ymax));
  s += "set key outside right top Left reverse box opaque width 1\n";
  const std::string data = quoted(data_name);
  std::vector<std::string> plots;
  int index = 0;
  for (const auto& ceil : c.ceilings)
    plots.push_back(fmt::format("{} index {} with lines lw 2 dt 1 lc rgb '{}' title {}", data, index++,
                                colour(ceil.group), quoted(ceil.label)));
  for (const auto& sl : c.slopes)
    plots.push_back(fmt::format("{} index {} with lines lw 2 dt 2 lc rgb '{}' title {}", data, index++,
                                colour(sl.group), quoted(sl.label)));
  plots.push_back(fmt::format("{} index {} with points pt 6 ps 2 lc rgb '#000000' title 'ridge points'", data, index++));
  for (const auto& se : c.series)
    plots.push_back(fmt::format("{} index {} using 1:2 with points pt {} ps 1.4 lc rgb '{}' title {}", data, index++,
                                se.marker, colour(se.group), quoted(se.name)));
  for (const auto& line : c.lines)
    plots.push_back(fmt::format("{} index {} with lines lw 1 dt 3 lc rgb '{}' notitle", data, index++,
                                color_of(colors, line.group)));
  plots.push_back(fmt::format("{} index {} using 1:2:3 with labels left font ',9' tc rgb '#333333' notitle", data,
                              index++));
  s += "plot \\\n  ";
  for (std::size_t i = 0; i < plots.size(); ++i) s += plots[i] + (i + 1 < plots.size() ? ", \\\n  " : "\n");
  s += "unset output\n";
  return s;
}

ChartFiles render(const RooflineChart& c, const std::string& image_path) {
  return render_with_gnuplot(image_path, gnuplot_data(c), [&](const std::string& image, const std::string& data, bool svg) {
    return gnuplot_script(c, image, data, svg);
  });
}

}  // namespace reports
