// carbontracker's prediction (spec §6): the planned epochs times the mean of the epochs measured
// before the prediction, at the mean of the live intensities and the forecast.
#include <cmath>

#include "epochwatt/run.hpp"

namespace epochwatt {

PredictionBasis prediction_basis(const std::vector<EpochSummary>& epochs, int after, bool skip_first) {
  std::vector<const EpochSummary*> measured;
  for (const auto& e : epochs)
    if (!e.interrupted && e.index <= after) measured.push_back(&e);
  PredictionBasis b;
  for (const auto* e : measured) b.measured_s += e->duration_s;
  std::size_t first = (skip_first && measured.size() > 1) ? 1 : 0;
  double joules = 0, seconds = 0;
  for (std::size_t i = first; i < measured.size(); ++i) {
    joules += measured[i]->joules;
    seconds += measured[i]->duration_s;
  }
  b.epochs_used = static_cast<int>(measured.size() - first);
  b.duration_s = seconds;
  b.joules = joules;
  return b;
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

}  // namespace epochwatt
