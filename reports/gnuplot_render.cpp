#include "reports/gnuplot_render.hpp"

#include <filesystem>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <vector>

#include <stdlib.h>

#include <fmt/format.h>
#include <gnuplot-iostream.h>

#include "reports/output_file.hpp"

namespace reports {

namespace fs = std::filesystem;

std::string gnuplot_number(double v) { return fmt::format("{:.17g}", v); }

std::string gnuplot_quoted(const std::string& s) {
  std::string q = "'";
  for (char c : s) {
    if (c == '\'') q += "''";
    else q += c == '\n' || c == '\r' ? ' ' : c;  // a quoted string cannot span lines in a script
  }
  return q + "'";
}

double font_px(double points) { return points * 96 / 72; }

std::string font_size(bool svg, double points) { return fmt::format("{:.4g}", svg ? font_px(points) : points); }

std::string terminal_line(bool svg, int width_px, int height_px) {
  return svg ? fmt::format("set terminal svg size {},{} dynamic noenhanced font 'DejaVu Sans,{}' background '#ffffff'\n",
                           width_px, height_px, font_size(true, kChartFontPt))
             : fmt::format("set terminal pngcairo size {},{} noenhanced font 'DejaVu Sans,{}' pointscale 1.7\n", width_px,
                           height_px, font_size(false, kChartFontPt));
}

ChartFiles chart_files(const std::string& image_path) {
  fs::path p(image_path);
  ChartFiles f;
  f.image = image_path;
  f.script = (p.parent_path() / (p.stem().string() + ".gp")).string();
  f.data = (p.parent_path() / (p.stem().string() + ".dat")).string();
  return f;
}

ChartFiles render_with_gnuplot(const std::string& image_path, const std::string& data_text, const ScriptWriter& script) {
  const ChartFiles files = chart_files(image_path);
  const std::string ext = fs::path(image_path).extension().string();
  if (ext != ".png" && ext != ".svg")
    throw ChartError("chart '" + image_path + "': the file name must end in .png or .svg");
  const bool svg = ext == ".svg";
  const fs::path dir = fs::absolute(fs::path(image_path)).parent_path();
  if (!fs::is_directory(dir)) throw ChartError("chart '" + image_path + "': no such directory");

  // gnuplot draws into a temporary image; the script and data written beside it name the final files.
  const std::string stem = fs::path(image_path).stem().string();
  const std::string tmp_image = ".~" + stem + ext, tmp_script = ".~" + stem + ".gp", tmp_data = ".~" + stem + ".dat";
  auto cleanup = [&] {
    std::error_code ec;
    for (const auto& f : {tmp_image, tmp_script, tmp_data}) fs::remove(dir / f, ec);
  };
  try {
    write_file_atomically((dir / tmp_data).string(), data_text);
    write_file_atomically((dir / tmp_script).string(), script(tmp_image, tmp_data, svg));
    {
      Gnuplot gp("gnuplot 2>" + gnuplot_quoted((dir / (".~" + stem + ".log")).string()));
      gp << "cd " << gnuplot_quoted(dir.string()) << "\n";
      gp << "load " << gnuplot_quoted(tmp_script) << "\n";
      gp << "exit\n";
    }  // the destructor waits for gnuplot to finish
    std::error_code ec;
    const auto size = fs::file_size(dir / tmp_image, ec);
    std::string log;
    if (std::ifstream in(dir / (".~" + stem + ".log")); in) log.assign(std::istreambuf_iterator<char>(in), {});
    fs::remove(dir / (".~" + stem + ".log"), ec);
    if (ec || size == 0) throw ChartError("chart '" + image_path + "': gnuplot failed: " + log);
    write_file_atomically(files.data, data_text);
    write_file_atomically(files.script, script(fs::path(image_path).filename().string(), fs::path(files.data).filename().string(), svg));
    fs::rename(dir / tmp_image, files.image);
  } catch (const OutputError& e) {
    cleanup();
    throw ChartError(e.what());
  } catch (...) {
    cleanup();
    throw;
  }
  cleanup();
  return files;
}

std::string render_svg_text(const std::string& data_text, const ScriptWriter& script) {
  std::string pattern = (fs::temp_directory_path() / "roofline-svg-XXXXXX").string();
  std::vector<char> name(pattern.begin(), pattern.end());
  name.push_back('\0');
  if (!::mkdtemp(name.data())) throw ChartError("cannot make a temporary folder: " + std::string(std::strerror(errno)));
  struct Remove {
    fs::path dir;
    ~Remove() {
      std::error_code ignored;
      fs::remove_all(dir, ignored);
    }
  } remove{fs::path(name.data())};
  const ChartFiles files = render_with_gnuplot((remove.dir / "chart.svg").string(), data_text, script);
  std::ifstream in(files.image, std::ios::binary);
  std::string svg{std::istreambuf_iterator<char>(in), {}};
  if (!in && !in.eof()) throw ChartError("cannot read the rendered chart '" + files.image + "'");
  return svg;
}

}  // namespace reports
