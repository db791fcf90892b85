// Marks a backend puts on meters that need not be read at every round. Internal: meters from
// outside the library are not marked, and are read at their period.
//
// LinearBetweenReads: a meter whose energy grows linearly between any two of its reads (a
// constant power, as the DRAM estimate from installed memory): reading it more often adds nothing.
// The MeterSet then reads it at its own MeterInfo::poll_period_s even where update_interval is
// shorter, and wherever a boundary has no reading of it after it, so its energy stays exact while
// it costs no reading at most rounds.
//
// CumulativeBetweenReads: a meter whose energy between two reads does not depend on the reads in
// between: a cumulative counter (RAPL energy_uj, NVML's total-energy counter, an hwmon energy
// counter) or an estimate made of cumulative counters (the CPU estimate: TDP x busy jiffies /
// total jiffies of /proc/stat). Reading it less often loses no energy, only resolution between
// readings, which only a boundary needs; so while no boundary is near the sampler reads it at its
// quiet period (MeterSet::kQuietPeriodS, Sampler::kQuietAfterS) and a boundary that comes then
// wakes the sampler for a reading right after it (docs/design.md, "Threads"). A power-only meter
// (integrated power) is never marked: its integral needs its frequent samples.
#pragma once

#include <memory>

#include "epochwatt/meter.hpp"

namespace epochwatt::detail {

class LinearBetweenReads {
 public:
  virtual ~LinearBetweenReads() = default;
};

inline bool linear_between_reads(const std::shared_ptr<Meter>& m) {
  return dynamic_cast<const LinearBetweenReads*>(m.get()) != nullptr;
}

class CumulativeBetweenReads {
 public:
  virtual ~CumulativeBetweenReads() = default;
  // The longest gap between two reads that loses no energy, in seconds: a wrapping counter's
  // time to wrap at the most power it can draw; +infinity when nothing bounds it (64-bit
  // counters); 0 when the meter is not cumulative after all (an NVML meter integrating power).
  virtual double longest_period_s() const = 0;
};

// 0 for a meter without the mark.
inline double cumulative_longest_period_s(const std::shared_ptr<Meter>& m) {
  const auto* c = dynamic_cast<const CumulativeBetweenReads*>(m.get());
  return c ? c->longest_period_s() : 0.0;
}

}  // namespace epochwatt::detail
