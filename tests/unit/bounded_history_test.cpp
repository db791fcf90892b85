// Memory that does not grow with the run (issue 13): the timelines of a long open epoch are
// thinned beyond the last hour (MeterSet::thin, Timeline::thin), exact where boundaries and
// intensity changes need them; the power history is bucketed (PowerHistory). A wrapped job of a
// week at 1 s sampling is one epoch: its readings are simulated here round by round, as the
// sampler makes them, on a ManualClock.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <vector>

#include "core/meter_set.hpp"
#include "core/power_history.hpp"
#include "core/timeline.hpp"
#include "epochwatt/clock.hpp"

namespace {

using namespace epochwatt;

// Power that varies (200 W +- 50 W over about six minutes), so that interpolation over a wider
// span would differ from the readings: joules(t) = 200 t + 3000 sin(t / 60).
double joules_at(double t) { return 200.0 * t + 3000.0 * std::sin(t / 60.0); }

class WavyMeter final : public Meter {
 public:
  WavyMeter() {
    info_.id = "test:wavy";
    info_.device_name = "wavy";
    info_.method = Method::counter;
  }
  const MeterInfo& info() const override { return info_; }
  void open(double t) override { t0_ = t; }
  MeterReading read(double t) override { return {joules_at(t) - joules_at(t0_), true, false, {}}; }

 private:
  MeterInfo info_;
  double t0_ = 0.0;
};

TEST(BoundedHistory, AWeekLongEpochAtOneSecondHoldsTheTimelineFlatAfterTheFirstHours) {
  auto clock = std::make_shared<ManualClock>(0.0);
  detail::MeterSet meters({std::make_shared<WavyMeter>()}, 1.0, clock);
  meters.open(0.0);
  const double epoch_start = 0.0;
  // Where the intensity changed (readings were taken there): the timeline must stay exact there.
  const std::vector<double> changes = {900.0, 86400.0, 300000.0};
  constexpr int kWeek = 7 * 24 * 3600;
  constexpr double kRecent = 3600.0;  // the tracker's kKeepEveryReadingS
  std::size_t most_after_six_hours = 0, most = 0;
  for (int s = 1; s <= kWeek; ++s) {
    clock->set(s);
    meters.read(s, false, [](const std::string&) {});
    meters.forget_before(epoch_start);  // the open epoch keeps everything from its start
    meters.thin(epoch_start, s - kRecent, changes);
    std::size_t n = meters.slots()[0].timeline.size();
    most = std::max(most, n);
    if (s > 6 * 3600) most_after_six_hours = std::max(most_after_six_hours, n);
  }
  // An hour of readings kept whole, the rest at most kThinFrom x 2 (thinning halves or better what
  // doubled): flat, whatever the length. Without thinning it would hold 604,800 points.
  const std::size_t bound = static_cast<std::size_t>(kRecent) + 2 * detail::MeterSet::kThinFrom;
  EXPECT_LE(most, bound);
  EXPECT_LE(most_after_six_hours, bound);
  const detail::Timeline& tl = meters.slots()[0].timeline;
  // Exact at the epoch's start, at each change of intensity and now: nothing measured is lost.
  EXPECT_DOUBLE_EQ(tl.energy_at(epoch_start), 0.0);
  for (double c : changes) EXPECT_DOUBLE_EQ(tl.energy_at(c), joules_at(c) - joules_at(0.0)) << "at " << c;
  EXPECT_DOUBLE_EQ(tl.energy_between(epoch_start, kWeek), joules_at(kWeek) - joules_at(0.0));
  // The last hour is whole: a boundary stamped a little before the newest reading interpolates
  // between the readings that bracket it, as without thinning.
  EXPECT_NEAR(tl.energy_at(kWeek - 100.5), 0.5 * (joules_at(kWeek - 101) + joules_at(kWeek - 100)) - joules_at(0.0),
              1e-6);
}

TEST(BoundedHistory, ThinningKeepsTheBracketsOfTheStartAndOfEveryAnchor) {
  detail::Timeline tl;
  for (int i = 0; i <= 1000; ++i) tl.append(i * 1.0, joules_at(i));
  const double before_start = tl.energy_at(10.5), before_anchor = tl.energy_at(500.25);
  tl.thin(10.5, 900.0, 100.0, {500.25});
  EXPECT_LT(tl.size(), 1001u - 800u) << "thinned";
  EXPECT_EQ(tl.energy_at(10.5), before_start);
  EXPECT_EQ(tl.energy_at(500.25), before_anchor);
  for (int i = 900; i <= 1000; ++i) EXPECT_EQ(tl.energy_at(i), joules_at(i)) << "kept whole from `until` on";
  // Points stay in time order.
  for (std::size_t i = 1; i < tl.points().size(); ++i) EXPECT_LT(tl.points()[i - 1].t, tl.points()[i].t);
}

TEST(BoundedHistory, ThePowerHistoryOfAWeekIsBoundedAndKeepsItsEnergy) {
  detail::PowerHistory h(1000);
  constexpr int kWeek = 7 * 24 * 3600;
  for (int s = 0; s <= kWeek; ++s) h.add(s, joules_at(s));
  auto buckets = h.buckets();
  EXPECT_LE(buckets.size(), 1001u);
  double sum = 0;
  for (const auto& b : buckets) sum += b.joules;
  EXPECT_NEAR(sum, joules_at(kWeek) - joules_at(0), 1e-6 * joules_at(kWeek));
}

}  // namespace
