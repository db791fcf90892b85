#include "core/timeline.hpp"

#include <algorithm>

namespace epochwatt::detail {

void Timeline::append(double t, double joules) {
  if (!points_.empty()) {
    if (t < points_.back().t) t = points_.back().t;
    if (joules < points_.back().joules) joules = points_.back().joules;
    if (t == points_.back().t) {
      points_.back().joules = joules;
      return;
    }
  }
  points_.push_back({t, joules});
}

double Timeline::energy_at(double t) const {
  if (points_.empty() || t <= points_.front().t) return points_.empty() ? 0.0 : points_.front().joules;
  if (t >= points_.back().t) return points_.back().joules;
  auto hi = std::lower_bound(points_.begin(), points_.end(), t,
                             [](const TimelinePoint& p, double v) { return p.t < v; });
  auto lo = hi - 1;
  double span = hi->t - lo->t;
  double f = span > 0 ? (t - lo->t) / span : 1.0;
  return lo->joules + f * (hi->joules - lo->joules);
}

void Timeline::forget_before(double t) {
  auto it = std::upper_bound(points_.begin(), points_.end(), t,
                             [](double v, const TimelinePoint& p) { return v < p.t; });
  if (it == points_.begin()) return;
  --it;  // last point at or before t stays
  points_.erase(points_.begin(), it);
}

}  // namespace epochwatt::detail
