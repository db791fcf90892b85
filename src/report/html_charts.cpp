#include "report/html_charts.hpp"

#include <algorithm>
#include <cmath>

#include "core/format.hpp"

namespace epochwatt::detail {
namespace {

constexpr double kJoulesPerWh = 3600.0;

// The viewBox and the fixed margins (px of the viewBox; text scales with the chart).
constexpr double kW = 960, kH = 320;
constexpr double kRight = 24, kTop = 16, kBottom = 52;
// Font sizes of .tick and .label in the page's CSS (html_report.cpp, kStyle).
constexpr double kTickFont = 12, kLabelFont = 13;
// Space kept between two labels, and between a tick label and its axis.
constexpr double kGap = 8;
// Estimated widths are taken 15 % wider, for a sans-serif wider than DejaVu Sans.
constexpr double kWidthMargin = 1.15;
// The rotated y-axis title: its baseline x; its glyphs reach about 0.93 em left of it (ascent)
// and 0.24 em right of it (descent), DejaVu Sans' metrics.
constexpr double kYTitleBaseline = 6 + 0.93 * kLabelFont;
constexpr double kYTitleRight = kYTitleBaseline + 0.24 * kLabelFont;
// The x tick labels' and the x-axis title's baselines below the plot.
constexpr double kXTickBaseline = kH - kBottom + 20, kXTitleBaseline = kH - 8;
constexpr double kMinLeft = 72;  // the legend above each chart starts there (.legend in kStyle)

std::string coord(double v) { return fixed(v, 1); }

// `significant` digits, fixed notation (at most 12 decimals).
std::string sig(double v, int significant = 4) {
  if (!std::isfinite(v)) return "n/a";
  if (v == 0) return "0";
  int magnitude = static_cast<int>(std::floor(std::log10(std::fabs(v))));
  int decimals = std::clamp(significant - 1 - magnitude, 0, 12);
  return fixed(v, decimals);
}

const char* colour_of(const std::string& component) {
  if (component == "gpu") return "#1b7f6b";
  if (component == "cpu") return "#d95f02";
  if (component == "dram") return "#7570b3";
  return "#666666";
}

// The rung of a ladder of units 1000 apart (ascending) in which `max_base` reads from 1 up.
ChartUnit on_ladder(double max_base, const std::vector<ChartUnit>& ladder, std::size_t fallback) {
  if (!std::isfinite(max_base) || max_base <= 0) return ladder[fallback];
  ChartUnit unit = ladder.front();
  for (const auto& u : ladder)
    if (max_base >= u.base_per_unit * (1 - 1e-12)) unit = u;
  return unit;
}

double widest_label(const Axis& a) {
  double w = 0;
  for (double t : a.ticks) w = std::max(w, text_width(tick_label(t, a.step), kTickFont));
  return w * kWidthMargin;
}

// The x axis over [lo, hi] with as many nice ticks (at most 8) as fit side by side in `width`.
Axis fitted_x_axis(double lo, double hi, double width, bool whole_numbers) {
  Axis a;
  for (int target = 8; target >= 1; --target) {
    a = nice_axis(lo, hi, target, whole_numbers);
    double spacing = width * a.step / (a.hi - a.lo);
    if (spacing >= widest_label(a) + kGap) break;
  }
  return a;
}

struct Plot {
  Axis x, y;
  double left = kMinLeft;
  double px(double v) const { return left + (v - x.lo) / (x.hi - x.lo) * (kW - left - kRight); }
  double py(double v) const { return kH - kBottom - (v - y.lo) / (y.hi - y.lo) * (kH - kTop - kBottom); }
};

// Room for the rotated title, a gap, the widest y tick label and the gap to the axis.
double left_margin(const Axis& y) { return std::max(kMinLeft, kYTitleRight + kGap + widest_label(y) + kGap); }

// A plot whose y axis covers [0, y_max] and x axis [x_lo, x_hi], the left margin fitted to the y
// labels and the x ticks to the width that leaves.
Plot make_plot(double x_lo, double x_hi, bool x_whole, double y_min, double y_max) {
  Plot p;
  p.y = nice_axis(y_min, y_max, 5);
  p.left = left_margin(p.y);
  p.x = fitted_x_axis(x_lo, x_hi, kW - p.left - kRight, x_whole);
  return p;
}

std::string text(const std::string& cls, double x, double y, const char* anchor, const std::string& body) {
  return "<text class=\"" + cls + "\" x=\"" + coord(x) + "\" y=\"" + coord(y) + "\" text-anchor=\"" + anchor + "\">" +
         body + "</text>";
}

std::string svg_open(const std::string& id, const std::string& title) {
  return "<svg id=\"" + id + "\" class=\"chart\" viewBox=\"0 0 " + fixed(kW, 0) + " " + fixed(kH, 0) +
         "\" role=\"img\" aria-label=\"" + html_escape(title) + "\">\n";
}

std::string axes(const Plot& p, const std::string& x_label, const std::string& y_label, bool x_ticks = true) {
  std::string s = "<g class=\"axes\">\n";
  for (double t : p.y.ticks) {
    double y = p.py(t);
    s += "<line class=\"grid\" x1=\"" + coord(p.left) + "\" y1=\"" + coord(y) + "\" x2=\"" + coord(kW - kRight) +
         "\" y2=\"" + coord(y) + "\"/>";
    s += text("tick", p.left - kGap, y + 4, "end", tick_label(t, p.y.step)) + "\n";
  }
  if (x_ticks)
    for (double t : p.x.ticks) {
      double x = p.px(t);
      s += "<line class=\"tickmark\" x1=\"" + coord(x) + "\" y1=\"" + coord(kH - kBottom) + "\" x2=\"" + coord(x) +
           "\" y2=\"" + coord(kH - kBottom + 5) + "\"/>";
      s += text("tick", x, kXTickBaseline, "middle", tick_label(t, p.x.step)) + "\n";
    }
  s += "<line class=\"axis\" x1=\"" + coord(p.left) + "\" y1=\"" + coord(kH - kBottom) + "\" x2=\"" + coord(kW - kRight) +
       "\" y2=\"" + coord(kH - kBottom) + "\"/>";
  s += "<line class=\"axis\" x1=\"" + coord(p.left) + "\" y1=\"" + coord(kTop) + "\" x2=\"" + coord(p.left) + "\" y2=\"" +
       coord(kH - kBottom) + "\"/>\n";
  s += text("label", (p.left + kW - kRight) / 2, kXTitleBaseline, "middle", html_escape(x_label)) + "\n";
  s += "<text class=\"label\" transform=\"translate(" + coord(kYTitleBaseline) + " " + coord((kTop + kH - kBottom) / 2) +
       ") rotate(-90)\" text-anchor=\"middle\">" + html_escape(y_label) + "</text>\n";
  return s + "</g>\n";
}

std::string no_data(const std::string& what) { return text("nodata", kW / 2, kH / 2, "middle", html_escape(what)) + "\n"; }

struct Line {
  std::string name, colour;
  std::vector<double> x, y;  // y in the chart's unit
  bool dashed = false, markers = false;
};

std::string legend(const std::vector<std::pair<std::string, std::string>>& entries) {
  std::string s = "<div class=\"legend\">";
  for (const auto& [name, colour] : entries)
    s += "<span><i style=\"background:" + colour + "\"></i>" + html_escape(name) + "</span>";
  return s + "</div>\n";
}

// A line chart; each line is one <polyline data-series data-points> (and, with markers, one
// <circle> per point inside a <g> with the same attributes).
std::string line_chart(const std::string& id, const std::string& title, const std::string& x_label,
                       const std::string& y_label, const std::vector<Line>& lines, double x_min, double x_max,
                       bool x_whole, const std::string& empty_text) {
  std::string s = svg_open(id, title);
  double y_max = 0, y_min = 0;
  std::size_t points = 0;
  for (const auto& l : lines) {
    points += l.x.size();
    for (double v : l.y)
      if (std::isfinite(v)) y_max = std::max(y_max, v), y_min = std::min(y_min, v);
  }
  Plot p = make_plot(x_min, x_max, x_whole, y_min, y_max * 1.05);
  s += axes(p, x_label, y_label);
  if (points == 0) s += no_data(empty_text);
  for (const auto& l : lines) {
    std::string pts;
    // Appends only: `" " + std::string` trips g++ 12's -Wrestrict at -O3 (GCC bug 105651).
    for (std::size_t i = 0; i < l.x.size(); ++i) {
      if (i) pts += ' ';
      pts += coord(p.px(l.x[i]));
      pts += ',';
      pts += coord(p.py(std::isfinite(l.y[i]) ? l.y[i] : 0.0));
    }
    std::string attrs = " data-series=\"" + html_escape(l.name) + "\" data-points=\"" + std::to_string(l.x.size()) + "\"";
    s += "<polyline class=\"line\"" + attrs + " fill=\"none\" stroke=\"" + l.colour + "\" stroke-width=\"2\"" +
         (l.dashed ? " stroke-dasharray=\"7 5\"" : "") + " points=\"" + pts + "\"/>\n";
    if (l.markers) {
      s += "<g class=\"markers\"" + attrs + " fill=\"" + l.colour + "\">";
      for (std::size_t i = 0; i < l.x.size(); ++i)
        s += "<circle cx=\"" + coord(p.px(l.x[i])) + "\" cy=\"" + coord(p.py(std::isfinite(l.y[i]) ? l.y[i] : 0.0)) +
             "\" r=\"4\"/>";
      s += "</g>\n";
    }
  }
  return s + "</svg>\n";
}

// Labels under the bars of the epoch chart: candidates in order of priority (x, text); a label
// is drawn only where its estimated box keeps kGap from every label already drawn and stays in
// the chart.
std::string placed_labels(const std::vector<std::pair<double, std::string>>& candidates) {
  std::vector<std::pair<double, double>> taken;  // [left, right]
  std::vector<std::pair<double, std::string>> drawn;
  for (const auto& [x, label] : candidates) {
    double half = text_width(label, kTickFont) * kWidthMargin / 2;
    double l = x - half, r = x + half;
    if (l < 0 || r > kW) continue;
    bool clear = std::all_of(taken.begin(), taken.end(), [&](const auto& t) { return r + kGap <= t.first || l >= t.second + kGap; });
    if (!clear) continue;
    taken.push_back({l, r});
    drawn.push_back({x, label});
  }
  std::sort(drawn.begin(), drawn.end());
  std::string s;
  for (const auto& [x, label] : drawn) {
    s += "<line class=\"tickmark\" x1=\"" + coord(x) + "\" y1=\"" + coord(kH - kBottom) + "\" x2=\"" + coord(x) + "\" y2=\"" +
         coord(kH - kBottom + 5) + "\"/>";
    s += text("tick", x, kXTickBaseline, "middle", label) + "\n";
  }
  return s;
}

}  // namespace

ChartUnit energy_unit(double max_joules) {
  static const std::vector<ChartUnit> ladder{{kJoulesPerWh * 1e-6, "µWh"}, {kJoulesPerWh * 1e-3, "mWh"},
                                             {kJoulesPerWh, "Wh"},         {kJoulesPerWh * 1e3, "kWh"},
                                             {kJoulesPerWh * 1e6, "MWh"},  {kJoulesPerWh * 1e9, "GWh"},
                                             {kJoulesPerWh * 1e12, "TWh"}};
  return on_ladder(max_joules, ladder, 2);
}

ChartUnit power_unit(double max_watts) {
  static const std::vector<ChartUnit> ladder{{1e-3, "mW"}, {1.0, "W"}, {1e3, "kW"}, {1e6, "MW"}, {1e9, "GW"}};
  return on_ladder(max_watts, ladder, 1);
}

ChartUnit time_unit(double max_seconds) {
  if (max_seconds >= 3 * 86400) return {86400.0, "d"};
  if (max_seconds >= 3 * 3600) return {3600.0, "h"};
  if (max_seconds >= 600) return {60.0, "min"};
  return {1.0, "s"};
}

Axis nice_axis(double lo, double hi, int target, bool whole_numbers) {
  if (!std::isfinite(lo) || !std::isfinite(hi)) lo = 0, hi = 1;
  if (hi <= lo) hi = lo + (lo == 0 ? 1.0 : std::fabs(lo) * 0.1);
  double raw = (hi - lo) / std::max(1, target);
  double p = std::pow(10.0, std::floor(std::log10(raw)));
  double step = raw / p < 1.5 ? p : raw / p < 3.5 ? 2 * p : raw / p < 7.5 ? 5 * p : 10 * p;
  if (whole_numbers) step = std::max(1.0, std::round(step));
  Axis a;
  a.step = step;
  a.lo = std::floor(lo / step + 1e-9) * step;
  a.hi = std::ceil(hi / step - 1e-9) * step;
  if (a.hi <= a.lo) a.hi = a.lo + step;
  long n = std::lround((a.hi - a.lo) / step);
  for (long i = 0; i <= n; ++i) {
    double t = a.lo + static_cast<double>(i) * step;  // from lo each time: no drift from adding
    a.ticks.push_back(std::fabs(t) < step * 1e-9 ? 0.0 : t);
  }
  return a;
}

std::string tick_label(double v, double step) {
  int decimals = step >= 1 ? 0 : std::min(9, static_cast<int>(std::ceil(-std::log10(step) - 1e-9)));
  std::string s = fixed(v, decimals);
  if (s.find_first_not_of("-0.") == std::string::npos) return "0";  // "-0", "-0.0"
  return s;
}

double text_width(const std::string& text, double font_px) {
  double em = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if ((c & 0xC0) == 0x80) continue;  // a UTF-8 continuation byte: counted with its lead byte
    if (c >= '0' && c <= '9') em += 0.636;
    else if (c == '.' || c == ',' || c == ':' || c == ' ') em += 0.318;
    else if (c == '-') em += 0.361;
    else if (c == '(' || c == ')') em += 0.390;
    else if (c == '*') em += 0.500;
    else if (c == 'm' || c == 'M' || c == 'W' || c == 'w') em += 1.0;
    else em += 0.72;
  }
  return em * font_px;
}

std::string power_chart(const ReportData& d) {
  double t_max = 0, w_max = 0;
  for (const auto& p : d.power) {
    if (!p.t_s.empty()) t_max = std::max(t_max, p.t_s.back());
    for (double w : p.watts)
      if (std::isfinite(w)) w_max = std::max(w_max, w);
  }
  ChartUnit time = time_unit(t_max), power = power_unit(w_max);
  std::vector<Line> lines;
  std::vector<std::pair<std::string, std::string>> keys;
  for (const auto& p : d.power) {
    Line l{p.component, colour_of(p.component), {}, {}};
    for (double t : p.t_s) l.x.push_back(t / time.base_per_unit);
    for (double w : p.watts) l.y.push_back(w / power.base_per_unit);
    lines.push_back(std::move(l));
    keys.push_back({p.component, colour_of(p.component)});
  }
  return legend(keys) + line_chart("chart-power", "Power over time per component", "time since start (" + time.name + ")",
                                   "power (" + power.name + ")", lines, 0, t_max / time.base_per_unit, false,
                                   "no power samples in this summary");
}

std::string epoch_energy_chart(const ReportData& d) {
  std::vector<std::string> comps;  // epochs' components come in the devices' order
  for (const auto& e : d.epochs)
    for (const auto& c : e.by_component)
      if (std::find(comps.begin(), comps.end(), c.component) == comps.end()) comps.push_back(c.component);
  double j_max = 0;
  for (const auto& e : d.epochs)
    if (std::isfinite(e.joules)) j_max = std::max(j_max, e.joules);
  ChartUnit unit = energy_unit(j_max);
  std::string s = svg_open("chart-epochs", "Energy per epoch");
  std::size_t n = d.epochs.size();
  // Bars at 1..n, each in a slot of width 1; the x axis has no ticks of its own.
  Plot p = make_plot(0.5, std::max<double>(1, n) + 0.5, true, 0, j_max / unit.base_per_unit * 1.05);
  p.x.lo = 0.5;
  p.x.hi = std::max<double>(1, n) + 0.5;
  s += axes(p, "epoch", "energy per epoch (" + unit.name + ")", false);
  // Epoch numbers under the bars: any interrupted one, every k-th with k a whole 1, 2 or 5 x 10^j,
  // and the first where k >= 5 (1, 5, 10 reads well; 1, 2, 4 does not); as many as fit without
  // touching.
  if (n > 0) {
    int last_index = std::max(1, d.epochs.back().index);
    Axis every = fitted_x_axis(0, last_index, kW - p.left - kRight, true);
    auto step = static_cast<long>(every.step);
    std::vector<std::pair<double, std::string>> candidates;
    auto label_of = [&](std::size_t i) { return std::to_string(d.epochs[i].index) + (d.epochs[i].interrupted ? "*" : ""); };
    auto x_of = [&](std::size_t i) { return p.px(static_cast<double>(i + 1)); };
    for (std::size_t i = 0; i < n; ++i)
      if (d.epochs[i].interrupted) candidates.push_back({x_of(i), label_of(i)});
    for (std::size_t i = 0; i < n; ++i)
      if (!d.epochs[i].interrupted && d.epochs[i].index % step == 0) candidates.push_back({x_of(i), label_of(i)});
    if (step == 1 || step >= 5) candidates.push_back({x_of(0), label_of(0)});
    s += placed_labels(candidates);
  }
  if (n == 0) s += no_data("no epoch ended in this run");
  double slot = (p.px(2) - p.px(1));
  double bar = std::max(1.0, slot * 0.7);
  std::vector<double> base(n, 0.0);
  for (const auto& comp : comps) {
    s += "<g class=\"bars\" data-series=\"" + html_escape(comp) + "\" data-points=\"" + std::to_string(n) + "\" fill=\"" +
         colour_of(comp) + "\">";
    for (std::size_t i = 0; i < n; ++i) {
      double v = 0;
      for (const auto& c : d.epochs[i].by_component)
        if (c.component == comp) v += c.joules / unit.base_per_unit;
      double y0 = p.py(base[i]), y1 = p.py(base[i] + v);
      base[i] += v;
      s += "<rect x=\"" + coord(p.px(static_cast<double>(i + 1)) - bar / 2) + "\" y=\"" + coord(y1) + "\" width=\"" +
           coord(bar) + "\" height=\"" + coord(std::max(0.0, y0 - y1)) + "\"" +
           (d.epochs[i].interrupted ? " fill-opacity=\"0.4\"" : "") + "><title>epoch " +
           std::to_string(d.epochs[i].index) + " " + html_escape(comp) + ": " + sig(v) + " " + unit.name + "</title></rect>";
    }
    s += "</g>\n";
  }
  std::vector<std::pair<std::string, std::string>> keys;
  for (const auto& c : comps) keys.push_back({c, colour_of(c)});
  return legend(keys) + s + "</svg>\n";
}

std::string prediction_chart(const ReportData& d) {
  double j_max = 0;
  for (const auto& pt : d.prediction_series)
    for (double kwh : {pt.predicted_kwh, pt.actual_kwh, pt.range_known ? pt.high_kwh : 0.0})
      if (std::isfinite(kwh)) j_max = std::max(j_max, kwh * kJoulesPerWh * 1e3);
  ChartUnit unit = energy_unit(j_max);
  double per_kwh = kJoulesPerWh * 1e3 / unit.base_per_unit;
  Line predicted{"predicted total", "#d95f02", {}, {}, true, true};
  Line actual{"measured so far", "#1f5fa8", {}, {}, false, true};
  Line low{"range, low end", "#f4b183", {}, {}, true, false};
  Line high{"range, high end", "#f4b183", {}, {}, true, false};
  for (const auto& pt : d.prediction_series) {
    predicted.x.push_back(pt.epoch);
    predicted.y.push_back(pt.predicted_kwh * per_kwh);
    actual.x.push_back(pt.epoch);
    actual.y.push_back(pt.actual_kwh * per_kwh);
    if (!pt.range_known) continue;
    low.x.push_back(pt.epoch);
    low.y.push_back(pt.low_kwh * per_kwh);
    high.x.push_back(pt.epoch);
    high.y.push_back(pt.high_kwh * per_kwh);
  }
  double x_max = std::max(1.0, static_cast<double>(d.epochs_planned));
  for (const auto& pt : d.prediction_series) x_max = std::max(x_max, static_cast<double>(pt.epoch));
  std::vector<std::pair<std::string, std::string>> keys{{predicted.name, predicted.colour}, {actual.name, actual.colour}};
  std::vector<Line> lines{predicted, actual};
  if (!low.x.empty()) {
    std::string level = significant(100 * d.prediction_level, 3);
    keys.push_back({level + "% range of the prediction", low.colour});
    lines.push_back(low);
    lines.push_back(high);
  }
  return legend(keys) + line_chart("chart-prediction", "Predicted against measured energy", "epochs ended",
                                   "energy with PUE " + sig(d.pue, 3) + " (" + unit.name + ")", lines, 0, x_max, true,
                                   "no epoch ended in this run");
}

}  // namespace epochwatt::detail
