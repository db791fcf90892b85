#include "core/meter_set.hpp"

#include "core/linear_meter.hpp"

#include <algorithm>
#include <cmath>
#include <exception>
#include <limits>

namespace epochwatt::detail {

MeterSet::MeterSet(const std::vector<std::shared_ptr<Meter>>& chosen, double update_interval_s, std::shared_ptr<Clock> clock)
    : clock_(std::move(clock)) {
  for (const auto& m : chosen) {
    if (!m) continue;
    Slot s;
    s.meter = m;
    s.info = m->info();
    s.period = s.info.poll_period_s > 0 ? std::min(s.info.poll_period_s, update_interval_s) : update_interval_s;
    if (linear_between_reads(m) && s.info.poll_period_s > 0) s.period = s.info.poll_period_s;
    double longest = cumulative_longest_period_s(m);
    s.quiet_period = longest > 0 ? std::max(s.period, std::min(kQuietPeriodS, longest)) : s.period;
    slots_.push_back(std::move(s));
  }
}

std::vector<MeterInfo> MeterSet::infos() const {
  std::vector<MeterInfo> out;
  for (const auto& s : slots_) out.push_back(s.info);
  return out;
}

void MeterSet::open(double t0) {
  for (auto& s : slots_) {
    s.meter->open(t0);
    s.timeline.append(t0, 0.0);
    // ~1000 buckets of at least 1 s: energy counters advance in steps (NVML's every 100 ms), so
    // shorter buckets would show the steps, not the power; a boundary's extra read folds in too.
    s.power = PowerHistory(1000, std::max(1.0, 0.5 * s.period));
    s.power.add(t0, 0.0);
    s.last_good = t0;
    s.last_read = t0;
  }
}

void MeterSet::read(double round_t, bool all, const Warn& warn) {
  read(round_t, all ? std::numeric_limits<double>::infinity() : -std::numeric_limits<double>::infinity(), warn);
}

void MeterSet::read(double round_t, double cover_t, const Warn& warn, bool quiet) {
  for (auto& s : slots_) {
    if (s.lost) continue;
    double period = quiet ? s.quiet_period : s.period;
    bool due = round_t >= s.last_read + period - kEarlyFraction * period;
    if (!due && !s.timeline.empty() && s.timeline.back().t >= cover_t) continue;
    // Each reading is stamped with its own time: a slow meter (NVML's energy call takes ~4 ms
    // on an H100) must not shift the readings of the meters read after it.
    double t = slots_.size() > 1 ? clock_->now() : round_t;
    s.last_read = t;
    MeterReading r;
    try {
      r = s.meter->read(t);
    } catch (const std::exception& e) {
      r.ok = false;
      r.error = e.what();
    }
    if (r.ok || r.lost) {
      s.timeline.append(t, std::isfinite(r.joules) ? r.joules : s.timeline.back().joules);
      s.power.add(t, s.timeline.back().joules);
    }
    if (r.ok && !r.lost) s.last_good = t;
    if (r.lost) {
      s.lost = true;
      warn("Meter " + s.info.id + " (" + s.info.device_name + ") stopped: " + r.error +
           ". Energy measured until then is kept; the run goes on without it.");
    } else if (!r.ok && !s.warned) {
      s.warned = true;
      warn("Meter " + s.info.id + " (" + s.info.device_name + "): read failed: " + r.error +
           ". Its last value stands until a read succeeds.");
    }
  }
}

double MeterSet::wait_s(double now, double cap_s, bool quiet) const {
  double w = cap_s;
  for (const auto& s : slots_)
    if (!s.lost) w = std::min(w, std::max(0.0, s.last_read + (quiet ? s.quiet_period : s.period) - now));
  return w;
}

bool MeterSet::can_go_quiet() const {
  return std::any_of(slots_.begin(), slots_.end(), [](const Slot& s) { return !s.lost && s.quiet_period > s.period; });
}

double MeterSet::shortest_period() const {
  double p = std::numeric_limits<double>::infinity();
  for (const auto& s : slots_)
    if (!s.lost) p = std::min(p, s.period);
  return p;
}

std::vector<DeviceEnergy> MeterSet::energy_between(double t0, double t1, double* total_joules) const {
  std::vector<DeviceEnergy> out;
  double total = 0;
  for (const auto& s : slots_) {
    double j = s.timeline.energy_between(t0, t1);
    total += j;
    // Complete only if a successful read at or after the end measured it: a failed or lost
    // meter's value at the boundary is the last one it gave, not what the device drew.
    out.push_back({s.info.id, s.info.device_name, s.info.component, s.info.method, j, s.last_good >= t1});
  }
  if (total_joules) *total_joules = total;
  return out;
}

double MeterSet::joules_between(double t0, double t1) const {
  double j = 0;
  for (const auto& s : slots_) j += s.timeline.energy_between(t0, t1);
  return j;
}

void MeterSet::forget_before(double t) {
  for (auto& s : slots_) s.timeline.forget_before(t);
}

bool MeterSet::needs_thinning() const {
  return std::any_of(slots_.begin(), slots_.end(), [](const Slot& s) { return s.timeline.size() > s.thin_at; });
}

void MeterSet::thin(double from, double until, const std::vector<double>& anchors) {
  for (auto& s : slots_) {
    if (s.timeline.size() <= s.thin_at) continue;
    // Nothing old enough to thin yet (all within the last hour): asked again once it has doubled,
    // not on every round (each ask copies and sorts the intensity's change times).
    if (until > from) s.timeline.thin(from, until, (until - from) / static_cast<double>(kThinTo), anchors);
    s.thin_at = std::max(kThinFrom, 2 * s.timeline.size());
  }
}

std::vector<PowerSeries> MeterSet::power_series(double started_mono) const {
  std::vector<PowerSeries> out;
  for (const auto& s : slots_) {
    PowerSeries p{s.info.id, s.info.device_name, s.info.component, s.info.method, 0.0, {}, {}};
    auto buckets = s.power.buckets();
    if (!buckets.empty()) p.start_s = buckets.front().t0 - started_mono;
    for (const auto& b : buckets) {
      p.end_s.push_back(b.t1 - started_mono);
      p.watts.push_back(b.watts());
    }
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace epochwatt::detail
