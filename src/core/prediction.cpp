// Predicting the whole run from its first epochs: carbontracker's rule (spec §6: the planned epochs
// times the mean epoch) and epochwatt's steady-epochs rule (docs/prediction.md), each with a range
// from the spread of the epochs it used.
#include <algorithm>
#include <cmath>
#include <numbers>

#include "core/prediction.hpp"
#include "epochwatt/run.hpp"

namespace epochwatt {

std::string_view to_string(PredictionRule r) {
  switch (r) {
    case PredictionRule::steady_epochs: return "steady-epochs";
    case PredictionRule::carbontracker: return "carbontracker";
  }
  return "unknown";
}

std::optional<PredictionRule> prediction_rule_from_string(std::string_view name) {
  if (name == "steady-epochs" || name == "steady_epochs" || name == "steady") return PredictionRule::steady_epochs;
  if (name == "carbontracker") return PredictionRule::carbontracker;
  return std::nullopt;
}

namespace {

// An epoch's figures that prediction reads, from either form of the epochs.
struct EpochFigures {
  int index;
  double duration_s, joules;
  bool interrupted;
};
std::size_t count_of(const std::vector<EpochSummary>& v) { return v.size(); }
std::size_t count_of(const EpochTable& t) { return t.size(); }
EpochFigures figures(const std::vector<EpochSummary>& v, std::size_t i) {
  return {v[i].index, v[i].duration_s, v[i].joules, v[i].interrupted};
}
EpochFigures figures(const EpochTable& t, std::size_t i) {
  return {t.index(i), t.duration_s(i), t.joules(i), t.interrupted(i)};
}

template <class Epochs>
PredictionBasis basis_of(const Epochs& epochs, int after, bool skip_first) {
  std::vector<EpochFigures> measured;
  for (std::size_t i = 0; i < count_of(epochs); ++i) {
    EpochFigures e = figures(epochs, i);
    if (!e.interrupted && e.index <= after) measured.push_back(e);
  }
  PredictionBasis b;
  for (const auto& e : measured) b.measured_s += e.duration_s;
  std::size_t first = (skip_first && measured.size() > 1) ? 1 : 0;
  double joules = 0, seconds = 0;
  for (std::size_t i = first; i < measured.size(); ++i) {
    joules += measured[i].joules;
    seconds += measured[i].duration_s;
  }
  b.epochs_used = static_cast<int>(measured.size() - first);
  b.duration_s = seconds;
  b.joules = joules;
  return b;
}

}  // namespace

PredictionBasis prediction_basis(const std::vector<EpochSummary>& epochs, int after, bool skip_first) {
  return basis_of(epochs, after, skip_first);
}
PredictionBasis prediction_basis(const EpochTable& epochs, int after, bool skip_first) {
  return basis_of(epochs, after, skip_first);
}

Consumption predict(const PredictionBasis& basis, int planned, double pue, double intensity_g_per_kwh,
                    std::string intensity_source, bool intensity_forecast) {
  // planned x the sums / n, in this order, as carbontracker computes it (bit-identical figures).
  double n = basis.epochs_used;
  double seconds = basis.duration_s, joules = basis.joules;
  Consumption c;
  c.epochs = planned;
  c.duration_s = n > 0 ? planned * seconds / n : 0.0;
  c.energy_kwh = n > 0 ? planned * joules / n * pue / kJoulesPerKwh : 0.0;
  c.intensity_g_per_kwh = intensity_g_per_kwh;
  c.intensity_source = std::move(intensity_source);
  c.intensity_forecast = intensity_forecast;
  c.co2_g = c.energy_kwh * c.intensity_g_per_kwh;
  c.km_by_car = c.co2_g / kCarGramsPerKm;
  return c;
}

double predicted_intensity(const std::vector<double>& live_values, double ahead, double predicted_s, double refresh_s) {
  double sum = 0;
  int count = 0;
  for (double v : live_values) sum += v, ++count;
  int repeats = 1 + static_cast<int>(std::floor(predicted_s / refresh_s));
  sum += ahead * repeats;
  count += repeats;
  return sum / count;
}

namespace detail {

// The standard normal's p-quantile, p in (0, 1): Abramowitz & Stegun 26.2.23 (|error| < 4.5e-4).
double normal_quantile(double p) {
  bool upper = p >= 0.5;
  double q = upper ? 1.0 - p : p;
  double t = std::sqrt(-2.0 * std::log(q));
  double z = t - (2.515517 + 0.802853 * t + 0.010328 * t * t) / (1.0 + 1.432788 * t + 0.189269 * t * t + 0.001308 * t * t * t);
  return upper ? z : -z;
}

// Student's t p-quantile with nu >= 1 degrees of freedom, p in [0.5, 1): exact for nu = 1 and 2;
// above, the Cornish-Fisher expansion of Abramowitz & Stegun 26.7.5 (within 1 % for nu >= 3 at
// p <= 0.995).
double t_quantile(double p, int nu) {
  if (nu == 1) return std::tan(std::numbers::pi * (p - 0.5));
  if (nu == 2) return (2 * p - 1) / std::sqrt(2 * p * (1 - p));
  double z = normal_quantile(p), v = nu;
  double z3 = z * z * z, z5 = z3 * z * z, z7 = z5 * z * z, z9 = z7 * z * z;
  return z + (z3 + z) / (4 * v) + (5 * z5 + 16 * z3 + 3 * z) / (96 * v * v) +
         (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / (384 * v * v * v) +
         (79 * z9 + 776 * z7 + 1482 * z5 - 1920 * z3 - 945 * z) / (92160 * v * v * v * v);
}

}  // namespace detail

namespace {

struct Point {
  int index;  // 1-based
  double s, j;
};

double median(std::vector<double> v) {
  if (v.empty()) return 0.0;
  std::size_t n = v.size();
  std::nth_element(v.begin(), v.begin() + n / 2, v.end());
  double hi = v[n / 2];
  if (n % 2) return hi;
  double lo = *std::max_element(v.begin(), v.begin() + n / 2);
  return (lo + hi) / 2;
}

// Median and scaled median absolute deviation (1.4826 x MAD estimates the standard deviation of
// normal data) of one figure over points [from, to).
struct Spread {
  double med = 0.0, sigma = 0.0;
};
template <class F>
Spread spread(const std::vector<Point>& p, std::size_t from, std::size_t to, F figure) {
  std::vector<double> v;
  for (std::size_t i = from; i < to; ++i) v.push_back(figure(p[i]));
  Spread s;
  s.med = median(v);
  for (double& x : v) x = std::abs(x - s.med);
  s.sigma = 1.4826 * median(v);
  return s;
}

// An outlier: further from the median than 3.5 robust standard deviations (Iglewicz & Hoaglin's
// modified z-score cut-off) and than 20 % of the median, so that ordinary jitter is never one.
constexpr double kOutlierZ = 3.5;
constexpr double kOutlierRelative = 0.20;
bool outside(double x, const Spread& s) {
  return std::abs(x - s.med) > std::max(kOutlierZ * s.sigma, kOutlierRelative * std::abs(s.med));
}

// Half-width of the `level` range of the sum of m future epochs, from n steady epochs with sample
// standard deviation sd: t(n-1) x sd x sqrt(m + m^2/n) (the epochs' own spread plus the mean's error).
// With periodic extra work read from h occurrences, r of the m epochs are predicted by the mean of
// those h instead: t(n-1) x sd x sqrt(m + (m-r)^2/n + r^2/h) (the same spread assumed in both).
double half_width(double sd, int n, int m, double level, int r = 0, int h = 0) {
  if (n < 2 || m <= 0) return 0.0;
  double t = detail::t_quantile(0.5 + level / 2, n - 1);
  double plain = m - r;
  double var = m + plain * plain / n + (r > 0 && h > 0 ? static_cast<double>(r) * r / h : 0.0);
  return t * sd * std::sqrt(var);
}

// A least-squares line y = a + b x through the steady epochs (x: the epoch's index), fitted from 3
// steady epochs on (two leave no residual to estimate its spread from). Its slope is used for the
// epochs to come only when significant: |b| / se(b) above Student's t at 99 % two-sided with n - 2
// degrees of freedom, from kTrendMinEpochs steady epochs on (fewer cannot tell a trend from
// noise). From kSlopeRangeMinEpochs on, the slope's uncertainty enters the range whether or not
// it is significant (see predict_run).
constexpr int kTrendMinEpochs = 6;
constexpr double kTrendSignificance = 0.99;
// The same minimum as the test: the range allows for what the rule itself may extrapolate. From 3
// or 4 steady epochs on, t(1) = 6.31 and t(2) = 2.92 give ranges of several times the run on long
// series (docs/performance.md, "Prediction accuracy").
constexpr int kSlopeRangeMinEpochs = kTrendMinEpochs;
struct Line {
  bool fitted = false, significant = false;
  double a = 0.0, b = 0.0;    // intercept, slope per epoch
  double x_mean = 0.0, sxx = 0.0, sd = 0.0;  // sd: the residuals' standard deviation (n - 2)
};
Line fit_line(const std::vector<int>& x, const std::vector<double>& y) {
  Line l;
  std::size_t n = x.size();
  if (n < 3) return l;
  double y_mean = 0;
  for (std::size_t i = 0; i < n; ++i) l.x_mean += x[i], y_mean += y[i];
  l.x_mean /= static_cast<double>(n), y_mean /= static_cast<double>(n);
  double sxy = 0;
  for (std::size_t i = 0; i < n; ++i) l.sxx += (x[i] - l.x_mean) * (x[i] - l.x_mean), sxy += (x[i] - l.x_mean) * (y[i] - y_mean);
  if (l.sxx <= 0) return l;
  l.fitted = true;
  l.b = sxy / l.sxx;
  l.a = y_mean - l.b * l.x_mean;
  double sse = 0;
  for (std::size_t i = 0; i < n; ++i) sse += (y[i] - l.a - l.b * x[i]) * (y[i] - l.a - l.b * x[i]);
  l.sd = std::sqrt(sse / static_cast<double>(n - 2));
  if (n < static_cast<std::size_t>(kTrendMinEpochs)) return l;
  double se_b = l.sd / std::sqrt(l.sxx);
  l.significant = se_b == 0.0 ? l.b != 0.0
                              : std::abs(l.b) / se_b > detail::t_quantile(0.5 + kTrendSignificance / 2, static_cast<int>(n) - 2);
  return l;
}

// The line's sum over epochs from..to (inclusive), each epoch's figure held at zero or above.
double line_sum(const Line& l, int from, int to) {
  if (to < from) return 0.0;
  double lo = from, hi = to;
  if (l.b < 0) hi = std::min(hi, std::floor(-l.a / l.b));
  if (l.b > 0) lo = std::max(lo, std::ceil(-l.a / l.b));
  if (hi < lo) return 0.0;
  double count = hi - lo + 1;
  return count * l.a + l.b * (lo + hi) * count / 2;
}

// Half-width of the `level` range of the line's sum over m future epochs from..to: the future
// epochs' own scatter and the line's error, t(n-2) x sd x sqrt(m + m^2/n + (sum of (x - x_mean))^2 / Sxx);
// r occurrences of periodic extra work read from h add the extra's own error, r^2/h.
double line_half_width(const Line& l, int n, int from, int to, double level, int r = 0, int h = 0) {
  int m = to - from + 1;
  if (m <= 0 || n < 3) return 0.0;
  double dx = m * ((from + to) / 2.0 - l.x_mean);
  double t = detail::t_quantile(0.5 + level / 2, n - 2);
  double extra = r > 0 && h > 0 ? static_cast<double>(r) * r / h : 0.0;
  return t * l.sd * std::sqrt(m + static_cast<double>(m) * m / n + dx * dx / l.sxx + extra);
}

double stddev(const std::vector<double>& v, double mean) {
  if (v.size() < 2) return 0.0;
  double ss = 0;
  for (double x : v) ss += (x - mean) * (x - mean);
  return std::sqrt(ss / static_cast<double>(v.size() - 1));
}

}  // namespace

namespace {

template <class Epochs>
Prediction predict_from(const Epochs& epochs, const PredictionInput& in) {
  // The newest kPredictionWindow ended epochs, oldest first.
  std::vector<Point> p;
  for (std::size_t i = count_of(epochs); i-- > 0 && p.size() < static_cast<std::size_t>(kPredictionWindow);) {
    EpochFigures e = figures(epochs, i);
    if (!e.interrupted) p.push_back({e.index, e.duration_s, e.joules});
  }
  std::reverse(p.begin(), p.end());
  int k = in.measured_epochs;
  double measured_s = in.measured_s, measured_j = in.measured_joules;
  if (k < 0 || measured_s < 0 || measured_j < 0) {
    k = 0, measured_s = 0, measured_j = 0;
    for (std::size_t i = 0; i < count_of(epochs); ++i) {
      EpochFigures e = figures(epochs, i);
      if (!e.interrupted) ++k, measured_s += e.duration_s, measured_j += e.joules;
    }
  }
  const bool whole = static_cast<int>(p.size()) == k;  // epoch 1 is in the window
  const int m = std::max(0, in.planned - k);  // epochs still to come
  const double to_kwh = in.pue / kJoulesPerKwh;

  Prediction out;
  PredictionDetail& d = out.detail;
  d.rule = in.rule;
  d.after_epochs = k;
  d.level = in.level;
  d.first_epoch_includes_setup = in.first_epoch_includes_setup;
  out.footprint.epochs = in.planned;
  if (k == 0 || p.empty()) return out;

  double total_s, total_j;
  double hs = 0.0, hj = 0.0;                    // the range: below the figure
  double hs_above = 0.0, hj_above = 0.0;        // and above it
  double low_allow_s = 0.0, low_allow_j = 0.0;  // and what its low end may also leave out
  std::vector<double> steady_s, steady_j;
  if (in.rule == PredictionRule::carbontracker) {
    PredictionBasis b;
    if (whole) {
      b = prediction_basis(epochs, p.back().index, in.skip_first);
    } else {  // the same sums, kept by the caller; past the window the first epoch weighs nothing
      b.epochs_used = k;
      b.duration_s = measured_s, b.joules = measured_j, b.measured_s = measured_s;
    }
    out.footprint = predict(b, in.planned, in.pue, 0.0);
    total_s = out.footprint.duration_s;
    total_j = out.footprint.energy_kwh / to_kwh;
    std::size_t first = (in.skip_first && k > 1 && whole) ? 1 : 0;
    if (first) d.warmup_epochs.push_back(p[0].index);
    for (std::size_t i = first; i < p.size(); ++i) steady_s.push_back(p[i].s), steady_j.push_back(p[i].j);
  } else {
    if (in.setup) d.setup_s = in.setup->duration_s, d.setup_joules = in.setup->joules;
    // Warm-up: the leading epochs that are outliers against the epochs after the first.
    std::size_t w = 0;
    if (whole && k >= 2) {
      Spread rs = spread(p, 1, p.size(), [](const Point& x) { return x.s; });
      Spread rj = spread(p, 1, p.size(), [](const Point& x) { return x.j; });
      while (w + 1 < p.size() && (outside(p[w].s, rs) || outside(p[w].j, rj))) ++w;
    }
    for (std::size_t i = 0; i < w; ++i) d.warmup_epochs.push_back(p[i].index);
    // Outliers among the rest (three or more epochs are needed to tell which one is off).
    std::vector<bool> out_of(p.size(), false);
    std::vector<int> high;
    Spread ps{}, pj{};
    if (p.size() - w >= 3) {
      ps = spread(p, w, p.size(), [](const Point& x) { return x.s; });
      pj = spread(p, w, p.size(), [](const Point& x) { return x.j; });
      for (std::size_t i = w; i < p.size(); ++i) {
        if (!outside(p[i].s, ps) && !outside(p[i].j, pj)) continue;
        out_of[i] = true;
        if (p[i].j > pj.med || p[i].s > ps.med) high.push_back(p[i].index);
      }
    }
    std::vector<int> steady_x;
    for (std::size_t i = w; i < p.size(); ++i)
      if (!out_of[i]) steady_s.push_back(p[i].s), steady_j.push_back(p[i].j), steady_x.push_back(p[i].index);
    double mean_s = 0, mean_j = 0;
    for (std::size_t i = 0; i < steady_s.size(); ++i) mean_s += steady_s[i], mean_j += steady_j[i];
    mean_s /= static_cast<double>(steady_s.size());
    mean_j /= static_cast<double>(steady_j.size());
    // Periodic extra work: the high outliers fall at first, first + period, ... and at every such
    // epoch so far (one seen: period = its index, as "every k epochs" would put it).
    bool periodic = false;
    if (!high.empty()) {
      int first = high[0];
      int period = high.size() == 1 ? high[0] : high[1] - high[0];
      periodic = period >= 2;
      for (std::size_t i = 0; periodic && i < high.size(); ++i) periodic = high[i] == first + static_cast<int>(i) * period;
      int expected = periodic ? 1 + (p.back().index - first) / period : 0;
      periodic = periodic && expected == static_cast<int>(high.size());
      if (periodic) {
        d.period = period, d.period_first = first;
        // Occurrences first + j * period in (last, planned], counted, not walked: planned may be
        // INT_MAX (a run of unknown length), and this runs at every epoch's end.
        auto occurrences_to = [&](long long idx) { return (idx - first) / period; };  // idx >= first
        if (in.planned > p.back().index)
          d.periodic_remaining = static_cast<int>(occurrences_to(in.planned) - occurrences_to(p.back().index));
        for (std::size_t i = w; i < p.size(); ++i)
          if (std::find(high.begin(), high.end(), p[i].index) != high.end())
            d.period_extra_s += p[i].s - mean_s, d.period_extra_joules += p[i].j - mean_j;
        d.period_extra_s /= static_cast<double>(high.size());
        d.period_extra_joules /= static_cast<double>(high.size());
      }
    }
    for (std::size_t i = w; i < p.size(); ++i)
      if (out_of[i] && !(periodic && std::find(high.begin(), high.end(), p[i].index) != high.end()))
        d.outlier_epochs.push_back(p[i].index);
    // A trend (schedules that lengthen or shorten epochs): the steady epochs' line, extrapolated
    // over the epochs to come, where its slope is significant; else their mean.
    const int from = p.back().index + 1, to = p.back().index + m;
    const int n = static_cast<int>(steady_s.size());
    Line ls = fit_line(steady_x, steady_s), lj = fit_line(steady_x, steady_j);
    if (ls.significant) d.trend_s_per_epoch = ls.b;
    if (lj.significant) d.trend_joules_per_epoch = lj.b;
    double rest_s = ls.significant ? line_sum(ls, from, to) : m * mean_s;
    double rest_j = lj.significant ? line_sum(lj, from, to) : m * mean_j;
    const int r = d.periodic_remaining, h = periodic ? static_cast<int>(high.size()) : 0;
    // The range of the remaining epochs' sum, as offsets below and above the figure. A significant
    // line: its own prediction interval. Otherwise the mean's, and from kSlopeRangeMinEpochs steady
    // epochs on also the line's (the slope is unknown, not zero: a trend too small to be
    // significant yet may still be there): the range holds both.
    auto rest_range = [&](const Line& l, const std::vector<double>& v, double mean, double rest, double& below, double& above) {
      if (l.significant) {
        below = above = line_half_width(l, n, from, to, in.level, r, h);
        return;
      }
      double hw = half_width(stddev(v, mean), n, m, in.level, r, h);
      below = above = hw;
      if (!l.fitted || n < kSlopeRangeMinEpochs) return;
      double centre = line_sum(l, from, to), lhw = line_half_width(l, n, from, to, in.level, r, h);
      below = std::max(hw, rest - (centre - lhw));
      above = std::max(hw, centre + lhw - rest);
    };
    rest_range(ls, steady_s, mean_s, rest_s, hs, hs_above);
    rest_range(lj, steady_j, mean_j, rest_j, hj, hj_above);
    double extra_s = d.periodic_remaining * d.period_extra_s, extra_j = d.periodic_remaining * d.period_extra_joules;
    double so_far_s = d.setup_s + measured_s, so_far_j = d.setup_joules + measured_j;
    total_s = so_far_s + rest_s + extra_s;
    total_j = so_far_j + rest_j + extra_j;
    // A period read from one occurrence may be a one-off: the range's low end allows for it not
    // coming back.
    if (periodic && high.size() == 1) low_allow_s = std::max(0.0, extra_s), low_allow_j = std::max(0.0, extra_j);
    out.footprint.duration_s = total_s;
    out.footprint.energy_kwh = total_j * to_kwh;
  }
  d.steady_epochs = static_cast<int>(steady_s.size());
  int n = d.steady_epochs;
  d.range_known = n >= 2;
  if (in.rule == PredictionRule::carbontracker) {
    double mean_s = 0, mean_j = 0;
    for (int i = 0; i < n; ++i) mean_s += steady_s[i] / n, mean_j += steady_j[i] / n;
    hs = hs_above = half_width(stddev(steady_s, mean_s), n, m, in.level);
    hj = hj_above = half_width(stddev(steady_j, mean_j), n, m, in.level);
  }
  // What was measured is a floor: a run cannot end below it.
  double floor_s = d.setup_s + measured_s, floor_j = d.setup_joules + measured_j;
  d.duration_s = {std::max(total_s - low_allow_s - hs, std::min(floor_s, total_s)), total_s + hs_above};
  d.energy_kwh = {std::max(total_j - low_allow_j - hj, std::min(floor_j, total_j)) * to_kwh, (total_j + hj_above) * to_kwh};
  d.co2_g = {0.0, 0.0};
  return out;
}

}  // namespace

Prediction predict_run(const std::vector<EpochSummary>& epochs, const PredictionInput& in) {
  return predict_from(epochs, in);
}
Prediction predict_run(const EpochTable& epochs, const PredictionInput& in) { return predict_from(epochs, in); }

void with_intensity(Prediction& p, double g_per_kwh, std::string source, bool forecast) {
  Consumption& c = p.footprint;
  c.intensity_g_per_kwh = g_per_kwh;
  c.intensity_source = std::move(source);
  c.intensity_forecast = forecast;
  c.co2_g = c.energy_kwh * g_per_kwh;
  c.km_by_car = c.co2_g / kCarGramsPerKm;
  p.detail.co2_g = {p.detail.energy_kwh.low * g_per_kwh, p.detail.energy_kwh.high * g_per_kwh};
}

}  // namespace epochwatt
