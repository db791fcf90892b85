// Accounting: which carbon intensity held when, and the gCO2e of energy drawn over any stretch of
// time, each intensity value weighted by the energy drawn while it held (spec D17). The footprint
// arithmetic itself is footprint() (epochwatt/run.hpp). Sampler thread only; no locking.
#pragma once

#include <vector>

#include "core/meter_set.hpp"
#include "epochwatt/intensity.hpp"

namespace epochwatt::detail {

class IntensityLedger {
 public:
  // A new value holds from t. A value that held while no epoch was open counted for no energy:
  // it is replaced rather than listed; a value equal to the newest (same figure and source) adds
  // nothing.
  void apply(double t, const IntensityValue& v, bool epoch_open);
  // An epoch was open while the newest value held: it is kept in the list from now on.
  void mark_used() { entry_used_ = true; }

  bool empty() const { return history_.empty(); }
  // The newest value (a default IntensityValue before the first).
  IntensityValue current() const { return history_.empty() ? IntensityValue{} : history_.back().value; }
  std::vector<double> values() const;       // every value held, in order
  std::vector<double> live_values() const;  // those that came from a live provider
  // The times (monotonic) from which each value held, ascending: where a timeline must stay exact.
  std::vector<double> change_times() const;

  // gCO2e of the IT energy drawn between t0 and t1 (facility energy: x pue); *it_joules gets it.
  double grams_between(const MeterSet& meters, double pue, double t0, double t1, double* it_joules) const;
  // Counts an ended epoch [t0, t1] into the run's intensity.
  void count_epoch(const MeterSet& meters, double pue, double t0, double t1);
  // The run's carbon intensity: energy-weighted over the counted epochs when the value changed,
  // else the value that holds now (the world average before any value).
  double run_intensity() const;

 private:
  struct Segment {
    double since;  // monotonic time from which the value held
    IntensityValue value;
  };
  std::vector<Segment> history_;
  bool entry_used_ = false;
  double counted_grams_ = 0.0;
  double counted_kwh_ = 0.0;  // facility energy those grams were computed from
};

}  // namespace epochwatt::detail
