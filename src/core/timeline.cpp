#include "core/timeline.hpp"

#include <algorithm>
#include <limits>

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
  // A vector keeps its capacity: give back what a long epoch made it hold.
  if (points_.capacity() > 4096 && points_.capacity() > 4 * points_.size()) points_.shrink_to_fit();
}

void Timeline::thin(double from, double until, double gap, const std::vector<double>& anchors) {
  const std::size_t n = points_.size();
  std::vector<TimelinePoint> kept;
  kept.reserve(n);
  auto anchor = anchors.begin();
  double last_kept = -std::numeric_limits<double>::infinity();
  for (std::size_t i = 0; i < n; ++i) {
    const TimelinePoint& p = points_[i];
    // Anchors at or before this point's predecessor are passed.
    while (anchor != anchors.end() && i > 0 && *anchor < points_[i - 1].t) ++anchor;
    bool keep = p.t <= from || p.t >= until;
    keep = keep || (i > 0 && points_[i - 1].t <= from);         // brackets `from` from above
    keep = keep || (i + 1 < n && points_[i + 1].t >= until);    // the last one before the range's end
    // Brackets an anchor: the anchor lies in [previous point, next point].
    keep = keep || (anchor != anchors.end() && *anchor <= (i + 1 < n ? points_[i + 1].t : p.t));
    keep = keep || p.t - last_kept >= gap;
    if (!keep) continue;
    kept.push_back(p);
    last_kept = p.t;
  }
  if (kept.size() == n) return;
  kept.shrink_to_fit();
  points_ = std::move(kept);
}

}  // namespace epochwatt::detail
