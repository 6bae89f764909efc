#include "reports/roofline_chart.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>

#include <fmt/format.h>

#include "reports/label_placer.hpp"

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

// Axis ranges in whole decades that hold every point and every ridge, with a decade to spare left and below, 1.5
// to the right (room for labels) and a factor 3 above the highest.
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
  r.xmax = std::pow(10, std::ceil(std::log10(xmax * 30)));
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

constexpr double kLabelPt = 9;                       // point labels; the key and axes use kChartFontPt
constexpr double kLeftPx = 140, kBottomPx = 80, kTopPx = 50;  // room for tic labels, axis labels and title
constexpr double kKeyGapPx = 12;                             // between the plot's border and the key
constexpr double kPointSize = 1, kRidgePointSize = 1.4;       // of the ops' markers and the ridge circles

// Half the size of a marker on the image. The svg terminal draws a point of size 1 as a shape of half-size
// 5.5 px (triangles and pentagons reach 1.33 times that, diamonds 1.41); pngcairo draws them within that at
// pointscale 1.7 (terminal_line). Half a pixel more for antialiasing.
double marker_radius(int point_type, double point_size) {
  const double shape = point_type >= 12 && point_type <= 13 ? 1.41 : point_type >= 8 ? 1.33 : 1.0;
  return 5.5 * point_size * shape + 0.5;
}

std::vector<std::string> legend_titles(const RooflineChart& c) {
  std::vector<std::string> t{"ridge points"};
  for (const auto& x : c.ceilings) t.push_back(x.label);
  for (const auto& x : c.slopes) t.push_back(x.label);
  for (const auto& x : c.series) t.push_back(x.name);
  return t;
}

// Splits "3: a,b,c" at commas into lines no wider than max_px in the key's font (a single name may exceed it).
std::vector<std::string> wrap_at_commas(const std::string& text, double max_px) {
  std::vector<std::string> lines{""};
  for (std::size_t start = 0; start < text.size();) {
    const std::size_t comma = text.find(',', start);
    const std::size_t end = comma == std::string::npos ? text.size() : comma + 1;
    const std::string piece = text.substr(start, end - start);
    if (!lines.back().empty() && text_width_em(lines.back() + piece) * font_px(kChartFontPt) > max_px)
      lines.push_back("    ");  // a continuation, indented under the label's number
    lines.back() += piece;
    start = end;
  }
  return lines;
}

// The plot area is fixed by explicit margins, so label boxes estimated in pixels match the image; the right
// margin holds the key, as wide as its longest title.
struct Frame {
  Range range{};
  double right_px = 0;
  double key_text_px = 0;
  LogPlotArea area;
};

Frame frame_of(const RooflineChart& c) {
  Frame f;
  f.range = range_of(c);
  for (const auto& t : legend_titles(c)) f.key_text_px = std::max(f.key_text_px, text_width_em(t) * font_px(kChartFontPt));
  f.key_text_px = std::max(f.key_text_px, 18 * font_px(kChartFontPt));  // room for wrapped numbered labels
  // The key's sample line and the space before its text (61 px measured at 11 pt), and gaps on both sides.
  f.right_px = std::min(f.key_text_px + kKeyGapPx + 5.5 * font_px(kChartFontPt), kWidthPx * 0.45);
  f.area = {kWidthPx - kLeftPx - f.right_px, kHeightPx - kBottomPx - kTopPx, f.range.xmin, f.range.xmax,
            f.range.ymin, f.range.ymax};
  return f;
}

}  // namespace

LabelLayout label_layout(const RooflineChart& c) {
  const Frame f = frame_of(c);
  std::vector<LabelRequest> requests;
  std::vector<Obstacle> obstacles;
  for (const auto& s : c.series)
    for (const auto& p : s.points) {
      const double r = marker_radius(s.marker, kPointSize);
      requests.push_back({p.x, p.y, p.label, r});
      obstacles.push_back({p.x, p.y, r});
    }
  for (const auto& ceil : c.ceilings)
    if (const Slope* s = main_slope(c, ceil.group))
      obstacles.push_back({ceil.flops_per_s / s->bytes_per_s, ceil.flops_per_s, marker_radius(6, kRidgePointSize)});
  LabelStyle style;
  style.font_px = font_px(kLabelPt);
  return place_labels(requests, obstacles, f.area, style);
}

namespace {

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
  for (const auto& note : c.notes) l.data += "# " + note + "\n";
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
    // Segments (the pairs, or the whole line) apart by one blank line, which breaks a gnuplot line; two would
    // end the block, so a segment with no point on the log axes leaves none.
    std::string rows;
    const std::size_t per_segment = line.pairs ? 2 : std::max<std::size_t>(line.points.size(), 1);
    for (std::size_t first = 0; first < line.points.size(); first += per_segment) {
      std::string segment;
      for (std::size_t i = first; i < std::min(first + per_segment, line.points.size()); ++i)
        if (const auto& p = line.points[i]; p.x > 0 && p.y > 0) segment += number(p.x) + " " + number(p.y) + "\n";
      if (segment.empty()) continue;
      if (!rows.empty()) rows += '\n';
      rows += segment;
    }
    block(l, "line", rows.empty() ? "NaN NaN" : rows);
  }
  const LabelLayout placed = label_layout(c);
  std::string labels, numbers;
  for (const auto& p : placed.placed)
    (p.is_number ? numbers : labels) += number(p.x) + " " + number(p.y) + " \"" + p.text + "\"\n";
  block(l, "labels (x: left end of the text, y: its middle)", labels.empty() ? "NaN NaN \"\"" : labels);
  block(l, "numbers standing for labels listed in the key", numbers.empty() ? "NaN NaN \"\"" : numbers);
  for (const auto& d : placed.dropped) l.data += "# no room for the label " + d + "\n";
  return l.data;
}

std::string gnuplot_script(const RooflineChart& c, const std::string& image_name, const std::string& data_name,
                           bool svg) {
  const Frame f = frame_of(c);
  const Range& r = f.range;
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
  // Margins fixed in pixels: the label layout (label_layout) was computed for exactly this plot area.
  s += fmt::format("set lmargin at screen {}\nset rmargin at screen {}\nset bmargin at screen {}\n"
                   "set tmargin at screen {}\n",
                   number(kLeftPx / kWidthPx), number(1 - f.right_px / kWidthPx), number(kBottomPx / kHeightPx),
                   number(1 - kTopPx / kHeightPx));
  // The key's left top corner just right of the border: no box, since gnuplot sizes a box by character count.
  s += fmt::format("set key at screen {}, screen {} left top Left reverse\n",
                   number(1 - (f.right_px - kKeyGapPx) / kWidthPx), number(1 - kTopPx / kHeightPx));
  const std::string data = quoted(data_name);
  std::vector<std::string> plots;
  int index = 0;
  for (const auto& ceil : c.ceilings)
    plots.push_back(fmt::format("{} index {} with lines lw 2 dt 1 lc rgb '{}' title {}", data, index++,
                                colour(ceil.group), quoted(ceil.label)));
  for (const auto& sl : c.slopes)
    plots.push_back(fmt::format("{} index {} with lines lw 2 dt 2 lc rgb '{}' title {}", data, index++,
                                colour(sl.group), quoted(sl.label)));
  plots.push_back(fmt::format("{} index {} with points pt 6 ps {} lc rgb '#000000' title 'ridge points'", data,
                              index++, kRidgePointSize));
  for (const auto& se : c.series)
    plots.push_back(fmt::format("{} index {} using 1:2 with points pt {} ps {} lc rgb '{}' title {}", data, index++,
                                se.marker, kPointSize, se.color.empty() ? colour(se.group) : se.color,
                                quoted(se.name)));
  for (const auto& line : c.lines)
    plots.push_back(fmt::format("{} index {} with lines lw 1 dt 3 lc rgb '{}' notitle", data, index++,
                                line.color.empty() ? color_of(colors, line.group) : line.color));
  const std::string label_font = font_size(svg, kLabelPt);
  plots.push_back(fmt::format("{} index {} using 1:2:3 with labels left font ',{}' tc rgb '#333333' notitle", data,
                              index++, label_font));
  plots.push_back(fmt::format("{} index {} using 1:2:3 with labels left font ',{}' tc rgb '#b00000' notitle", data,
                              index++, label_font));
  for (const auto& k : label_layout(c).key)
    for (const auto& line : wrap_at_commas(k.number + ": " + k.text, f.key_text_px))
      plots.push_back("keyentry title " + quoted(line));
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

std::string render_svg(const RooflineChart& c) {
  return render_svg_text(gnuplot_data(c), [&](const std::string& image, const std::string& data, bool svg) {
    return gnuplot_script(c, image, data, svg);
  });
}

}  // namespace reports
