#include "reports/label_placer.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <optional>

namespace reports {
namespace {

// DejaVu Sans advance widths of ' ' ... '~' in font units (2048 per em), read from the font's hmtx table.
// pngcairo renders these exactly: a 62-character label at 9 pt measured 385 px against 386 estimated.
constexpr std::array<int, 95> kAdvance = {
    651,  821,  942,  1716, 1303, 1946, 1597, 563,  799,  799,  1024, 1716, 651,  739,  651,  690,  1303, 1303, 1303,
    1303, 1303, 1303, 1303, 1303, 1303, 1303, 690,  690,  1716, 1716, 1716, 1087, 2048, 1401, 1405, 1430, 1577, 1294,
    1178, 1587, 1540, 604,  604,  1343, 1141, 1767, 1532, 1612, 1235, 1612, 1423, 1300, 1251, 1499, 1401, 2025, 1403,
    1251, 1403, 799,  690,  799,  1716, 1024, 1024, 1255, 1300, 1126, 1300, 1260, 721,  1300, 1298, 569,  569,  1186,
    569,  1995, 1298, 1253, 1300, 1300, 842,  1067, 803,  1298, 1212, 1675, 1212, 1212, 1075, 1303, 690,  1303, 1716};
constexpr double kUnitsPerEm = 2048;
// Ascent + descent of the font (1901 + 483 units): the height of a line of text.
constexpr double kLineEm = 2384 / kUnitsPerEm;
// Points closer than this read as one marker, so they share one label.
constexpr double kMergePx = 3;
// Labels try the marker's ring and the next; a number, being small, tries two more before it is dropped.
constexpr int kLabelRings = 2, kNumberRings = 4;

// Where a box of w x h may go around a marker at (ax, ay) of radius r: ring 0 touches the marker (right and
// left first, where a reader looks for a label, then the diagonals, above and below); ring k is k lines further
// out, its right and left positions a line above and below as well.
std::vector<PixelBox> candidates(double ax, double ay, double r, double w, double h, int ring) {
  const double d = r * 0.71;  // a diagonal's offset, so the box corner sits on the marker's circle
  const double k = ring * h;
  auto right = [&](double x0, double yc) { return PixelBox{x0, yc - h / 2, x0 + w, yc + h / 2}; };
  auto at = [&](double x0, double y0) { return PixelBox{x0, y0, x0 + w, y0 + h}; };
  std::vector<PixelBox> c = {right(ax + r + k, ay),       right(ax - r - k - w, ay),      at(ax + d, ay + d + k),
                             at(ax + d, ay - d - h - k),  at(ax - d - w, ay + d + k),     at(ax - d - w, ay - d - h - k),
                             at(ax - w / 2, ay + r + k),  at(ax - w / 2, ay - r - h - k)};
  if (ring > 0)
    for (double dy : {k, -k}) {
      c.push_back(right(ax + r, ay + dy));
      c.push_back(right(ax - r - w, ay + dy));
    }
  return c;
}

std::string last_word(const std::string& s) {
  const auto sp = s.rfind(' ');
  return sp == std::string::npos ? std::string() : s.substr(sp);
}

// "q_proj @64" + "k_proj @64" -> "q_proj,k_proj @64"; "a" + "b" -> "a,b"; a name already listed is not repeated
// ("attention" + "attention @64" -> "attention": the point says it for both).
std::string merge_texts(const std::string& a, const std::string& b) {
  const std::string suffix = last_word(a), suffix_b = last_word(b);
  const bool shared = !suffix.empty() && suffix == suffix_b;
  const std::string head_a = a.substr(0, a.size() - suffix.size());
  const std::string head_b = b.substr(0, b.size() - suffix_b.size());
  if (("," + head_a + ",").find("," + head_b + ",") != std::string::npos) return a;
  return shared ? head_a + "," + head_b + suffix : a + "," + b;
}

struct Anchor {
  double px, py;
  std::string text;
  double radius;
};

class Placer {
 public:
  Placer(const LogPlotArea& area, const LabelStyle& style) : area_(area), style_(style) {}

  void add_obstacle(double px, double py, double r) { taken_.push_back({px - r, py - r, px + r, py + r}); }

  // The first free candidate of the ring, taken; none if all collide.
  std::optional<PixelBox> take(const Anchor& a, const std::string& text, int ring) {
    const double w = text_width_em(text) * style_.font_px + 2 * style_.gap_px;
    const double h = kLineEm * style_.font_px + 2 * style_.gap_px;
    for (const PixelBox& b : candidates(a.px, a.py, a.radius, w, h, ring)) {
      if (b.x0 < 0 || b.y0 < 0 || b.x1 > area_.width_px || b.y1 > area_.height_px) continue;
      if (std::any_of(taken_.begin(), taken_.end(), [&](const PixelBox& t) { return t.intersects(b); })) continue;
      taken_.push_back(b);
      return b;
    }
    return std::nullopt;
  }

  PlacedLabel placed(const std::string& text, const PixelBox& b, bool is_number) const {
    return {text, area_.data_x(b.x0 + style_.gap_px), area_.data_y((b.y0 + b.y1) / 2), b, is_number};
  }

 private:
  const LogPlotArea& area_;
  const LabelStyle& style_;
  std::vector<PixelBox> taken_;
};

}  // namespace

double text_width_em(std::string_view utf8) {
  double units = 0;
  for (unsigned char c : utf8) {
    if (c >= 0x20 && c < 0x7f) units += kAdvance[c - 0x20];
    else if ((c & 0xc0) != 0x80) units += kUnitsPerEm;  // the first byte of a non-ASCII character
  }
  return units / kUnitsPerEm;
}

bool PixelBox::intersects(const PixelBox& o) const { return x0 < o.x1 && o.x0 < x1 && y0 < o.y1 && o.y0 < y1; }

double LogPlotArea::px_x(double x) const {
  return (std::log10(x) - std::log10(x_min)) / std::log10(x_max / x_min) * width_px;
}
double LogPlotArea::px_y(double y) const {
  return (std::log10(y) - std::log10(y_min)) / std::log10(y_max / y_min) * height_px;
}
double LogPlotArea::data_x(double px) const {
  return std::pow(10.0, std::log10(x_min) + px / width_px * std::log10(x_max / x_min));
}
double LogPlotArea::data_y(double px) const {
  return std::pow(10.0, std::log10(y_min) + px / height_px * std::log10(y_max / y_min));
}

LabelLayout place_labels(const std::vector<LabelRequest>& labels, const std::vector<Obstacle>& obstacles,
                         const LogPlotArea& area, const LabelStyle& style) {
  std::vector<Anchor> anchors;
  for (const LabelRequest& l : labels) {
    if (l.text.empty() || !(l.x > 0) || !(l.y > 0)) continue;
    const double px = area.px_x(l.x), py = area.px_y(l.y);
    auto same = std::find_if(anchors.begin(), anchors.end(),
                             [&](const Anchor& a) { return std::hypot(a.px - px, a.py - py) < kMergePx; });
    if (same == anchors.end()) {
      anchors.push_back({px, py, l.text, l.marker_radius_px});
    } else {
      same->text = merge_texts(same->text, l.text);
      same->radius = std::max(same->radius, l.marker_radius_px);
    }
  }
  Placer placer(area, style);
  for (const Obstacle& o : obstacles)
    if (o.x > 0 && o.y > 0) placer.add_obstacle(area.px_x(o.x), area.px_y(o.y), o.radius_px);
  for (const Anchor& a : anchors) placer.add_obstacle(a.px, a.py, a.radius);

  LabelLayout layout;
  layout.area = area;
  // Every label gets a chance at the nearest ring before any label is pushed out to the next.
  std::vector<std::optional<PixelBox>> box(anchors.size());
  for (int ring = 0; ring < kLabelRings; ++ring)
    for (std::size_t i = 0; i < anchors.size(); ++i)
      if (!box[i]) box[i] = placer.take(anchors[i], anchors[i].text, ring);
  for (std::size_t i = 0; i < anchors.size(); ++i)
    if (box[i]) layout.placed.push_back(placer.placed(anchors[i].text, *box[i], false));

  // The rest go to the key; their numbers are placed with the widest number's width, then numbered in order.
  std::vector<std::size_t> rest;
  for (std::size_t i = 0; i < anchors.size(); ++i)
    if (!box[i]) rest.push_back(i);
  const std::string widest(std::to_string(rest.size()).size(), '0');
  std::vector<std::optional<PixelBox>> tag(rest.size());
  for (int ring = 0; ring < kNumberRings; ++ring)
    for (std::size_t k = 0; k < rest.size(); ++k)
      if (!tag[k]) tag[k] = placer.take(anchors[rest[k]], widest, ring);
  for (std::size_t k = 0; k < rest.size(); ++k) {
    const std::string& text = anchors[rest[k]].text;
    if (!tag[k]) {
      layout.dropped.push_back(text);
      continue;
    }
    const std::string number = std::to_string(layout.key.size() + 1);
    layout.placed.push_back(placer.placed(number, *tag[k], true));
    layout.key.push_back({number, text});
  }
  return layout;
}

}  // namespace reports
