// Bounded power history of one meter, built from the cumulative energy the sampler already reads:
// consecutive readings are grouped into buckets of at least `width` seconds, each holding the
// joules drawn during it, so a bucket's mean power is exact (energy / time), never a sample.
// When `max_buckets` are full, neighbouring pairs merge (energy is kept) and the minimum width
// doubles, so memory stays bounded however long the run. Not thread-safe: owned by the sampler.
#pragma once

#include <cstddef>
#include <vector>

namespace epochwatt::detail {

struct PowerBucket {
  double t0 = 0.0, t1 = 0.0;  // seconds, on the clock of the readings
  double joules = 0.0;        // drawn during [t0, t1]
  double watts() const { return t1 > t0 ? joules / (t1 - t0) : 0.0; }
};

class PowerHistory {
 public:
  // min_width_s: readings closer than this fold into one bucket (an epoch boundary's extra
  // reading shortly after a poll would otherwise give a noisy sliver). max_buckets >= 2.
  explicit PowerHistory(std::size_t max_buckets = 1000, double min_width_s = 0.0);
  // One reading: time and the meter's cumulative joules (the first one only sets the origin).
  // Times going backwards and energy going down are clamped, as in Timeline.
  void add(double t, double joules);
  // Closed buckets, then the open one if it spans any time (joined to the last closed one when
  // shorter than half the minimum width). At most max_buckets + 1.
  std::vector<PowerBucket> buckets() const;
  double width() const { return width_; }

 private:
  void compact();

  std::size_t max_buckets_;
  double width_;
  bool started_ = false;
  double open_t0_ = 0.0, open_e0_ = 0.0;  // start of the open bucket
  double last_t_ = 0.0, last_e_ = 0.0;    // latest reading
  std::vector<PowerBucket> closed_;
};

}  // namespace epochwatt::detail
