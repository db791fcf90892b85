#include "core/accounting.hpp"

#include <algorithm>

namespace epochwatt {

Consumption footprint(int epochs, double duration_s, double it_joules, double pue, double intensity_g_per_kwh,
                      std::string intensity_source) {
  Consumption c;
  c.epochs = epochs;
  c.duration_s = duration_s;
  c.energy_kwh = it_joules * pue / kJoulesPerKwh;
  c.intensity_g_per_kwh = intensity_g_per_kwh;
  c.intensity_source = std::move(intensity_source);
  c.co2_g = c.energy_kwh * c.intensity_g_per_kwh;
  c.km_by_car = c.co2_g / kCarGramsPerKm;
  return c;
}

Consumption footprint_of_epochs(const std::vector<EpochSummary>& epochs, double pue, double intensity_g_per_kwh,
                                std::string intensity_source) {
  int n = 0;
  double seconds = 0, joules = 0;
  for (const auto& e : epochs)
    if (!e.interrupted) ++n, seconds += e.duration_s, joules += e.joules;
  return footprint(n, seconds, joules, pue, intensity_g_per_kwh, std::move(intensity_source));
}

Consumption footprint_of_epochs(const EpochTable& epochs, double pue, double intensity_g_per_kwh,
                                std::string intensity_source) {
  // The table keeps the same sums, in the same order, as its rows arrive.
  return footprint(epochs.counted_epochs(), epochs.counted_s(), epochs.counted_joules(), pue, intensity_g_per_kwh,
                   std::move(intensity_source));
}

namespace detail {

void IntensityLedger::apply(double t, const IntensityValue& v, bool epoch_open) {
  if (!history_.empty() && !entry_used_ && !epoch_open) {
    history_.back() = {history_.back().since, v};
  } else if (history_.empty() || history_.back().value.g_per_kwh != v.g_per_kwh ||
             history_.back().value.source != v.source) {
    history_.push_back({t, v});
    entry_used_ = epoch_open;
  }
}

std::vector<double> IntensityLedger::values() const {
  std::vector<double> out;
  for (const auto& h : history_) out.push_back(h.value.g_per_kwh);
  return out;
}

std::vector<double> IntensityLedger::live_values() const {
  std::vector<double> out;
  for (const auto& h : history_)
    if (h.value.live) out.push_back(h.value.g_per_kwh);
  return out;
}

double IntensityLedger::grams_between(const MeterSet& meters, double pue, double t0, double t1,
                                      double* it_joules) const {
  double grams = 0, joules = 0;
  for (std::size_t i = 0; i < history_.size(); ++i) {
    double from = i == 0 ? t0 : std::max(t0, history_[i].since);
    double to = i + 1 < history_.size() ? std::min(t1, history_[i + 1].since) : t1;
    if (to <= from) continue;
    double j = meters.joules_between(from, to);
    joules += j;
    grams += j * pue / kJoulesPerKwh * history_[i].value.g_per_kwh;
  }
  if (it_joules) *it_joules = joules;
  return grams;
}

void IntensityLedger::count_epoch(const MeterSet& meters, double pue, double t0, double t1) {
  double joules = 0;
  counted_grams_ += grams_between(meters, pue, t0, t1, &joules);
  counted_kwh_ += joules * pue / kJoulesPerKwh;
}

std::vector<double> IntensityLedger::change_times() const {
  std::vector<double> out;
  out.reserve(history_.size());
  for (const auto& h : history_) out.push_back(h.since);
  return out;
}

double IntensityLedger::run_intensity() const {
  if (history_.empty()) return kWorldAverageGPerKwh;
  if (history_.size() == 1 || counted_kwh_ <= 0) return history_.back().value.g_per_kwh;
  return counted_grams_ / counted_kwh_;
}

}  // namespace detail
}  // namespace epochwatt
