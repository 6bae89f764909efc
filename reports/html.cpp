#include "reports/html.hpp"

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>

namespace reports {
namespace {

// Inline, so the page needs nothing beside it. Numbers in tables line up (tabular figures, right aligned).
constexpr const char* kStyle = R"css(
body { font-family: "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; color: #222; margin: 0 auto;
       max-width: 1200px; padding: 1em 2em 3em; line-height: 1.4; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.3em; margin-top: 2em; border-bottom: 1px solid #ccc; padding-bottom: 0.2em; }
nav ol { columns: 2; padding-left: 1.5em; }
dl { display: grid; grid-template-columns: max-content auto; gap: 0.25em 1.5em; }
dt { font-weight: bold; }
dd { margin: 0; }
.table { overflow-x: auto; }
table { border-collapse: collapse; font-size: 0.9em; font-variant-numeric: tabular-nums; margin: 0.5em 0; }
caption { text-align: left; font-weight: bold; padding: 0.3em 0; }
th, td { padding: 0.2em 0.7em; border-bottom: 1px solid #e4e4e4; white-space: nowrap; }
th { background: #f3f3f3; }
tbody tr:nth-child(even) { background: #fafafa; }
tfoot td { font-weight: bold; border-top: 2px solid #999; }
.l { text-align: left; }
.r { text-align: right; }
figure { margin: 1.5em 0; }
figure svg { width: 100%; height: auto; border: 1px solid #e4e4e4; }
figcaption { font-size: 0.9em; color: #555; }
)css";

bool valid_id(const std::string& id) {
  return !id.empty() && std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  });
}

// Within one tag (from '<' to '>'): references href="#x" (xlink:href too) and url(#x) become #<prefix>x, and
// id="x" becomes id="<prefix>x", with "-2", "-3" ... after an id the document already used (gnuplot repeats
// the ids of a plot's key entries when it redraws an opaque key; references go to the first, as before).
std::string prefix_ids_in_tag(std::string tag, const std::string& prefix, std::map<std::string, int>& seen) {
  for (const std::string key : {"href=\"#", "href='#", "url(#"})
    for (std::size_t at = tag.find(key); at != std::string::npos; at = tag.find(key, at + key.size() + prefix.size()))
      tag.insert(at + key.size(), prefix);
  for (const std::string key : {" id=\"", " id='"}) {
    const std::size_t at = tag.find(key);
    if (at == std::string::npos) continue;
    const std::size_t begin = at + key.size(), end = tag.find(key.back(), begin);
    if (end == std::string::npos) throw HtmlError("inline svg: an id is not closed");
    std::string id = prefix + tag.substr(begin, end - begin);
    if (const int n = ++seen[id]; n > 1) id = fmt::format("{}-{}", id, n);
    tag.replace(begin, end - begin, id);
  }
  return tag;
}

}  // namespace

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string html_paragraph(const std::string& text) { return "<p>" + html_escape(text) + "</p>\n"; }

std::string html_table(const Table& t, const std::string& caption) {
  const auto& columns = t.columns();
  auto cls = [&](std::size_t c) { return columns[c].align == Align::left ? "l" : "r"; };
  auto row = [&](const std::vector<std::string>& cells, const char* tag) {
    std::string r = "<tr>";
    for (std::size_t c = 0; c < cells.size(); ++c)
      r += fmt::format("<{0} class=\"{1}\">{2}</{0}>", tag, cls(c), html_escape(cells[c]));
    return r + "</tr>\n";
  };
  std::string h = "<div class=\"table\"><table>\n";
  if (!caption.empty()) h += "<caption>" + html_escape(caption) + "</caption>\n";
  std::vector<std::string> titles;
  for (const auto& c : columns) titles.push_back(c.title);
  h += "<thead>\n" + row(titles, "th") + "</thead>\n<tbody>\n";
  for (const auto& r : t.rows()) h += row(r, "td");
  h += "</tbody>\n";
  if (!t.footer().empty()) {
    h += "<tfoot>\n";
    for (const auto& r : t.footer()) h += row(r, "td");
    h += "</tfoot>\n";
  }
  return h + "</table></div>\n";
}

std::string html_terms(const std::vector<std::pair<std::string, std::string>>& terms) {
  std::string h = "<dl>\n";
  for (const auto& [term, description] : terms)
    h += "<dt>" + html_escape(term) + "</dt><dd>" + html_escape(description) + "</dd>\n";
  return h + "</dl>\n";
}

std::string inline_svg(const std::string& svg_document, const std::string& id_prefix, const std::string& title) {
  if (!valid_id(id_prefix)) throw HtmlError("inline svg: bad id prefix '" + id_prefix + "'");
  const std::size_t begin = svg_document.find("<svg");
  const std::size_t end = svg_document.rfind("</svg>");
  if (begin == std::string::npos || end == std::string::npos || end < begin)
    throw HtmlError("inline svg: the text holds no <svg> element");
  const std::string svg = svg_document.substr(begin, end + 6 - begin);
  // Text outside tags is copied as it is; each tag gets its ids prefixed.
  std::string out;
  out.reserve(svg.size() + svg.size() / 8);
  std::map<std::string, int> seen;
  for (std::size_t at = 0; at < svg.size();) {
    const std::size_t open = svg.find('<', at);
    if (open == std::string::npos) {
      out += svg.substr(at);
      break;
    }
    out += svg.substr(at, open - at);
    const std::size_t close = svg.find('>', open);
    if (close == std::string::npos) throw HtmlError("inline svg: a tag is not closed");
    out += prefix_ids_in_tag(svg.substr(open, close + 1 - open), id_prefix, seen);
    at = close + 1;
  }
  // The root's own <title> (gnuplot writes "Gnuplot") names the chart instead; a figure is an image to readers.
  const std::string titled = "<title>" + html_escape(title) + "</title>";
  const std::size_t root_end = out.find('>') + 1;
  const std::size_t next = out.find_first_not_of(" \t\r\n", root_end);
  if (next != std::string::npos && out.compare(next, 7, "<title>") == 0 && out.find("</title>", next) != std::string::npos)
    out.replace(next, out.find("</title>", next) + 8 - next, titled);
  else
    out.insert(root_end, titled);
  out.insert(4, " role=\"img\" aria-label=\"" + html_escape(title) + "\"");
  return out;
}

std::string html_figure(const std::string& svg_element, const std::string& caption) {
  return "<figure>\n" + svg_element + "\n<figcaption>" + html_escape(caption) + "</figcaption>\n</figure>\n";
}

std::string render_page(const HtmlPage& page) {
  std::set<std::string> ids;
  for (const auto& s : page.sections) {
    if (!valid_id(s.id)) throw HtmlError("html page: bad section id '" + s.id + "'");
    if (!ids.insert(s.id).second) throw HtmlError("html page: section id '" + s.id + "' used twice");
  }
  std::string h = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  h += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  h += "<title>" + html_escape(page.title) + "</title>\n<style>" + kStyle + "</style>\n</head>\n<body>\n";
  h += "<header><h1>" + html_escape(page.title) + "</h1></header>\n";
  h += "<nav><ol>\n";
  for (const auto& s : page.sections) h += "<li><a href=\"#" + s.id + "\">" + html_escape(s.title) + "</a></li>\n";
  h += "</ol></nav>\n<main>\n";
  for (const auto& s : page.sections)
    h += "<section id=\"" + s.id + "\">\n<h2>" + html_escape(s.title) + "</h2>\n" + s.body + "</section>\n";
  return h + "</main>\n</body>\n</html>\n";
}

}  // namespace reports
