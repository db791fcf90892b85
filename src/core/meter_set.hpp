// The meters of one run and what they have read: per meter a timeline of cumulative joules (for
// boundaries, by interpolation) and a bucketed power history (for the report's power series).
// Owned and used by the sampler thread only; no locking of its own.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/power_history.hpp"
#include "core/timeline.hpp"
#include "epochwatt/clock.hpp"
#include "epochwatt/meter.hpp"
#include "epochwatt/run.hpp"
#include "epochwatt/tracker.hpp"

namespace epochwatt::detail {

class MeterSet {
 public:
  // Timeline thinning (thin()): from this many points, down to about this many in the thinned range.
  static constexpr std::size_t kThinFrom = 8192, kThinTo = 2048;
  // One meter in use and its readings so far.
  struct Slot {
    std::shared_ptr<Meter> meter;
    MeterInfo info;
    Timeline timeline;
    PowerHistory power;
    double period = 1.0;     // seconds between its polls
    // Seconds between its polls while the sampler is quiet (no boundary near): longer than
    // `period` only for a meter cumulative between reads (core/linear_meter.hpp).
    double quiet_period = 1.0;
    double last_read = 0.0;  // time of its last poll (successful or not): the next is due a period later
    bool lost = false;       // the meter said it is gone: no more reads
    double last_good = 0.0;  // time of its last successful read: later boundaries are guesses
    bool warned = false;     // a failed read was reported once
    std::size_t thin_at = kThinFrom;  // thin the timeline when it holds more points than this
  };
  using Warn = std::function<void(const std::string& message)>;

  MeterSet() = default;
  // Each meter's poll period is its own (MeterInfo::poll_period_s) capped at update_interval_s,
  // except a meter linear between reads (core/linear_meter.hpp), whose own period holds. Its quiet
  // period: for a meter cumulative between reads, kQuietPeriodS (at most its longest_period_s(),
  // at least its period); for any other, its period.
  MeterSet(const std::vector<std::shared_ptr<Meter>>& chosen, double update_interval_s, std::shared_ptr<Clock> clock);

  bool empty() const { return slots_.empty(); }
  const std::vector<Slot>& slots() const { return slots_; }
  std::vector<MeterInfo> infos() const;

  // Opens every meter at t0 (their joules count from there).
  void open(double t0);
  // One round at round_t: the meters that are due (or due within kEarlyFraction of their period,
  // so that meters of similar periods share a round instead of waking the sampler apart), and
  // every meter whose last reading is before cover_t (a boundary stamped at cover_t then lies
  // between two of its readings). A read that fails warns once; a meter that is lost warns and is
  // read no more.
  // `quiet`: a meter is due a quiet_period after its last poll instead of a period (Sampler).
  void read(double round_t, double cover_t, const Warn& warn, bool quiet = false);
  // Every meter when `all` (a point where something changes), else those that are due.
  void read(double round_t, bool all, const Warn& warn);
  static constexpr double kEarlyFraction = 0.1;
  // Seconds until the next meter is due (at their quiet periods when `quiet`), at most cap_s.
  double wait_s(double now, double cap_s, bool quiet = false) const;
  // The quiet period of a meter cumulative between reads: 5 s, a choice of epochwatt. Its cost
  // is resolution only (the report's power series has a point per 5 s while the sampler is
  // quiet); its gain, 1 wake-up of the sampler where there were 5 at the default 1 s
  // (docs/performance.md, "Sampler CPU: the adaptive period (issue 13)").
  static constexpr double kQuietPeriodS = 5.0;
  // Whether some meter still read has a quiet period longer than its period.
  bool can_go_quiet() const;
  // The shortest period of the meters still read (+infinity when none): how late after a
  // boundary the sampler's next round comes at most while it is not quiet.
  double shortest_period() const;
  // IT energy per meter between t0 and t1 (DeviceEnergy::complete: a good read at or after t1).
  std::vector<DeviceEnergy> energy_between(double t0, double t1, double* total_joules) const;
  double joules_between(double t0, double t1) const;
  // Drops timeline points no boundary before t can need.
  void forget_before(double t);
  // Bounds the timelines of a long open epoch: a timeline longer than it was after its last
  // thinning, twice over (and than kThinFrom points), is thinned inside (from, until) to about
  // kThinTo points (Timeline::thin; `from` and `anchors` stay exact). Amortised O(1) per reading.
  void thin(double from, double until, const std::vector<double>& anchors);
  // Whether thin() would do anything now (one comparison per meter: called every round).
  bool needs_thinning() const;
  // The power history of each meter, times relative to started_mono.
  std::vector<PowerSeries> power_series(double started_mono) const;

 private:
  std::vector<Slot> slots_;
  std::shared_ptr<Clock> clock_;
};

}  // namespace epochwatt::detail
