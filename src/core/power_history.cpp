#include "core/power_history.hpp"

#include <algorithm>

namespace epochwatt::detail {

PowerHistory::PowerHistory(std::size_t max_buckets, double min_width_s)
    : max_buckets_(std::max<std::size_t>(max_buckets, 2)), width_(std::max(min_width_s, 0.0)) {
  closed_.reserve(max_buckets_);
}

void PowerHistory::add(double t, double joules) {
  if (!started_) {
    started_ = true;
    open_t0_ = last_t_ = t;
    open_e0_ = last_e_ = joules;
    return;
  }
  last_t_ = std::max(t, last_t_);
  last_e_ = std::max(joules, last_e_);
  double span = last_t_ - open_t0_;
  if (span <= 0 || span < width_) return;
  closed_.push_back({open_t0_, last_t_, last_e_ - open_e0_});
  open_t0_ = last_t_;
  open_e0_ = last_e_;
  if (closed_.size() >= max_buckets_) compact();
}

void PowerHistory::compact() {
  double mean_width = (closed_.back().t1 - closed_.front().t0) / static_cast<double>(closed_.size());
  std::size_t out = 0;
  for (std::size_t i = 0; i < closed_.size(); i += 2) {
    PowerBucket b = closed_[i];
    if (i + 1 < closed_.size()) {
      b.t1 = closed_[i + 1].t1;
      b.joules += closed_[i + 1].joules;
    }
    closed_[out++] = b;
  }
  closed_.resize(out);
  // Later buckets as wide as the merged ones, so the series keeps one resolution.
  width_ = 2 * std::max(width_, mean_width);
}

std::vector<PowerBucket> PowerHistory::buckets() const {
  std::vector<PowerBucket> out = closed_;
  if (!started_ || !(last_t_ > open_t0_)) return out;
  // A sliver shorter than half a bucket joins the last one (its power would be mostly noise).
  if (!out.empty() && last_t_ - open_t0_ < width_ / 2) {
    out.back().t1 = last_t_;
    out.back().joules += last_e_ - open_e0_;
  } else {
    out.push_back({open_t0_, last_t_, last_e_ - open_e0_});
  }
  return out;
}

}  // namespace epochwatt::detail
