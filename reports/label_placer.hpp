// Placing point labels on a log-log chart so that none covers another label or a point. Each label's box is
// estimated in pixels from the chart font's advance widths and tried at several positions around its point
// (nearest first, for every label, before any label moves further out); the first position that collides with
// nothing placed, no marker and no edge of the plot is kept. A label that fits nowhere is replaced by a number
// placed the same way, its text going to the chart's key; where even the number fits nowhere, the label is
// dropped and its point stays unlabelled.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace reports {

// Width of one line of text in DejaVu Sans (the charts' font), in ems. Non-ASCII characters count 1 em each,
// wider than any glyph of that font's Latin range, so an estimate is never too narrow.
double text_width_em(std::string_view utf8);

struct PixelBox {  // pixels from the plot area's bottom left corner, y up
  double x0 = 0, y0 = 0, x1 = 0, y1 = 0;
  bool intersects(const PixelBox& o) const;  // overlapping interiors (shared edges do not count)
};

// The plot area of a log-log chart: its size on the image and the ranges of its axes.
struct LogPlotArea {
  double width_px = 0, height_px = 0;
  double x_min = 1, x_max = 10, y_min = 1, y_max = 10;

  double px_x(double x) const;
  double px_y(double y) const;
  double data_x(double px) const;
  double data_y(double px) const;
};

struct LabelStyle {
  double font_px = 12;  // the label font's em on the image (9 pt at 96 dpi, what pngcairo renders)
  double gap_px = 2;    // clearance around a label's text
};

struct LabelRequest {  // a point (data coordinates), its label, and the half-size of its marker on the image
  double x = 0, y = 0;
  std::string text;
  double marker_radius_px = 6;
};

struct Obstacle {  // a marker that no label may cover (data coordinates, radius on the image)
  double x = 0, y = 0;
  double radius_px = 6;
};

struct PlacedLabel {
  std::string text;     // the label, or the number standing for it in the key
  double x = 0, y = 0;  // where the text goes: its left end and vertical middle (data coordinates)
  PixelBox box;         // the text's estimated extent with its clearance
  bool is_number = false;  // stands for a key entry
};

struct KeyEntry {  // a label shown on the chart by its number
  std::string number, text;
};

struct LabelLayout {
  LogPlotArea area;                  // the plot area the boxes are in
  std::vector<PlacedLabel> placed;   // labels and numbers, none intersecting another or a marker
  std::vector<KeyEntry> key;         // in number order
  std::vector<std::string> dropped;  // labels with no room even for a number
};

// Labels whose points fall within a pixel of each other are merged into one ("q_proj,k_proj"; a shared last
// word is written once: "q_proj,k_proj @64"). Empty labels and points off a log axis (<= 0) are skipped.
// Every labelled point is also an obstacle (its marker).
LabelLayout place_labels(const std::vector<LabelRequest>& labels, const std::vector<Obstacle>& obstacles,
                         const LogPlotArea& area, const LabelStyle& style = {});

}  // namespace reports
