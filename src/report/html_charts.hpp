// The inline SVG charts of the HTML report (html_report.hpp): power over time, energy per epoch,
// and the prediction as epochs accrue. Every axis is laid out so that its text can be read:
// - values in the unit of their magnitude (µWh ... TWh, mW ... GW, s/min/h/d), so that tick labels
//   read between 0 and about 1000 and never run to many zeros or decimals;
// - ticks at 1, 2 or 5 x 10^k, whole numbers on epoch axes (an epoch has no half), and as many
//   as fit side by side without touching (widths estimated by text_width());
// - a left margin sized from the widest y tick label, so that the rotated axis title stands clear
//   of them however long the numbers are.
// tests/e2e/report_chart_layout_test.cpp checks in headless Chromium that no two text boxes of a
// chart overlap and that none leaves its chart, over short, long, tiny and huge runs.
// Pure functions: no I/O.
#pragma once

#include <string>
#include <vector>

#include "report/html_report.hpp"

namespace epochwatt::detail {

// A unit of a chart's axis: a value in base units (J, W, s) / base_per_unit reads in `name`.
struct ChartUnit {
  double base_per_unit = 1.0;
  std::string name;
};

// The rung of the Wh ladder (µWh, mWh, Wh, kWh, MWh, GWh, TWh; 1 Wh = 3600 J) in which
// `max_joules` reads from 1 to below 1000; below 1 µWh, µWh; 0 or not finite: Wh.
ChartUnit energy_unit(double max_joules);
// The same for power (mW, W, kW, MW, GW); 0 or not finite: W.
ChartUnit power_unit(double max_watts);
// Seconds below 10 min, minutes below 3 h, hours below 3 days, then days: a time axis never
// reads more than 600 s, 180 min or 72 h (a choice for readability, no standard).
ChartUnit time_unit(double max_seconds);

struct Axis {
  double lo = 0, hi = 1, step = 1;
  std::vector<double> ticks;  // lo, lo + step, ..., hi
};

// Ticks at 1, 2 or 5 x 10^k, about `target` of them, covering [lo, hi] (hi <= lo: a range of 1,
// or 10 % of |lo|; not finite: [0, 1]). `whole_numbers`: the step is at least 1 (epochs).
Axis nice_axis(double lo, double hi, int target, bool whole_numbers = false);

// `v` with as many decimals as `step` needs (step 0.25 is never made: 0.2 and 0.5 are), "-0" as "0".
std::string tick_label(double v, double step);

// The advance width in px of `text` at `font_px`, from DejaVu Sans' advance widths (digits
// 0.636 em, '.' 0.318 em, 'm' and 'W' about 1 em), the widest of the fonts the page names and
// Debian's default sans-serif; unknown characters count 0.72 em. An estimate for layout, never
// below the true width in that font for the characters the axes use.
double text_width(const std::string& text, double font_px);

// The three charts, each a legend (HTML) and one <svg class="chart">; every series is an element
// with data-series and data-points (polyline, or a <g> of circles or rects).
std::string power_chart(const ReportData& d);
std::string epoch_energy_chart(const ReportData& d);
std::string prediction_chart(const ReportData& d);

}  // namespace epochwatt::detail
