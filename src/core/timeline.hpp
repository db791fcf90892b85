// Per-meter history of (time, cumulative joules) points; energy at any time by linear
// interpolation. Not thread-safe: owned by the sampler.
#pragma once

#include <cstddef>
#include <vector>

namespace epochwatt::detail {

struct TimelinePoint {
  double t;
  double joules;
};

class Timeline {
 public:
  // Points must come in non-decreasing time; a smaller joule value than the last is clamped to
  // it, so the timeline stays monotone whatever a meter returns.
  void append(double t, double joules);
  // Cumulative joules at time t: 0 before the first point, linear between points, the last
  // value after the last point (a meter that stopped keeps what it measured).
  double energy_at(double t) const;
  double energy_between(double t0, double t1) const { return energy_at(t1) - energy_at(t0); }
  bool covers(double t) const { return !points_.empty() && points_.back().t >= t; }
  bool empty() const { return points_.empty(); }
  const TimelinePoint& back() const { return points_.back(); }
  std::size_t size() const { return points_.size(); }
  const std::vector<TimelinePoint>& points() const { return points_; }
  // Drop points strictly older than the last point at or before t (keeps interpolation at and
  // after t exact). Used to bound memory once boundaries before t are resolved.
  void forget_before(double t);
  // Thins the points strictly inside (from, until) so that those kept are at least `gap` seconds
  // apart, except that the points bracketing `from` and each time in `anchors` (ascending) stay:
  // energy_at stays exact at every kept point, at `from` and at each anchor; elsewhere inside the
  // range it interpolates over a wider span. Bounds a timeline that must reach back to an epoch
  // opened long ago (a wrapped job of a week is one epoch) without keeping every reading.
  void thin(double from, double until, double gap, const std::vector<double>& anchors);

 private:
  std::vector<TimelinePoint> points_;
};

}  // namespace epochwatt::detail
