// One self-contained HTML page: escaping, tables, term lists, inline SVG figures, and the page around them
// (inline CSS, a list of contents, the sections in order). Nothing on the page loads anything from elsewhere.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "reports/table.hpp"

namespace reports {

class HtmlError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Text made safe in element content and in quoted attributes: & < > " ' escaped.
std::string html_escape(std::string_view text);

// Builders of a section's body. Their text arguments are plain text (escaped here); what they return is HTML.
std::string html_paragraph(const std::string& text);
// The table's header, rows and footer (<thead>, <tbody>, <tfoot>), each column aligned as in the table.
std::string html_table(const Table& t, const std::string& caption = "");
// Term and description pairs (<dl>).
std::string html_terms(const std::vector<std::pair<std::string, std::string>>& terms);
// An SVG document made to sit inside a page: the XML prolog dropped, its <title> set to `title`, and every id
// and reference to one prefixed with id_prefix, so several charts on one page do not share ids (gnuplot names
// its markers the same in every chart). Throws HtmlError if the text holds no <svg> element.
std::string inline_svg(const std::string& svg_document, const std::string& id_prefix, const std::string& title);
// A <figure> of an inline_svg element and its caption.
std::string html_figure(const std::string& svg_element, const std::string& caption);

// A page is a title and sections; a report adds sections for what it reports (an analysis, a validation).
struct HtmlSection {
  std::string id;     // the anchor the contents link to: letters, digits, '-' and '_', unique on the page
  std::string title;  // plain text
  std::string body;   // HTML, from the builders above
};

struct HtmlPage {
  std::string title;  // plain text: <title> and <h1>
  std::vector<HtmlSection> sections;
};

// The whole page; throws HtmlError for a missing, malformed or repeated section id.
std::string render_page(const HtmlPage& page);

}  // namespace reports
