// WrappingCounter, PowerIntegrator (include/epochwatt/meter.hpp) and Timeline (src/core/timeline.hpp).
#include <gtest/gtest.h>

#include <cstdint>

#include "core/timeline.hpp"
#include "epochwatt/meter.hpp"

namespace {

using epochwatt::PowerIntegrator;
using epochwatt::WrappingCounter;
using epochwatt::detail::Timeline;

// ------------------------------------------------------------------ WrappingCounter

TEST(WrappingCounter, FirstValueIsTheOrigin) {
  WrappingCounter c(1e-6, 1000000);  // RAPL: microjoules
  EXPECT_DOUBLE_EQ(c.update(500000), 0.0);
  EXPECT_DOUBLE_EQ(c.update(750000), 0.25);
  EXPECT_DOUBLE_EQ(c.joules(), 0.25);
}

TEST(WrappingCounter, WrapAddsTheMaxRange) {
  // 900000 -> max 1000000 -> 0 -> 100000: 200000 units across the wrap.
  WrappingCounter c(1e-6, 1000000);
  c.update(800000);
  c.update(900000);
  EXPECT_DOUBLE_EQ(c.update(100000), 0.3);
  EXPECT_EQ(c.wraps(), 1u);
  EXPECT_EQ(c.resets(), 0u);
}

TEST(WrappingCounter, SeveralWrapsAcrossReads) {
  const std::uint64_t max = 262143328850ULL;  // a real RAPL max_energy_range_uj
  WrappingCounter c(1e-6, max);
  std::uint64_t raw = max - 1000;
  c.update(raw);
  double expected_units = 0;
  // Every step advances 100e9 units, so the raw value wraps about every third read.
  const std::uint64_t step = 100000000000ULL;
  for (int i = 0; i < 10; ++i) {
    raw = (raw + step) % max;
    expected_units += static_cast<double>(step);
    c.update(raw);
  }
  EXPECT_NEAR(c.joules(), expected_units * 1e-6, 1e-6);
  EXPECT_EQ(c.wraps(), 4u);
  EXPECT_EQ(c.resets(), 0u);
}

TEST(WrappingCounter, DecreaseWithoutRangeIsAResetThatAddsNothing) {
  WrappingCounter c(1e-3, 0);  // NVML total energy: millijoules, no published range
  c.update(10000);
  c.update(12000);
  EXPECT_DOUBLE_EQ(c.update(500), 2.0);  // driver reload: the counter restarted
  EXPECT_EQ(c.resets(), 1u);
  EXPECT_EQ(c.wraps(), 0u);
  EXPECT_DOUBLE_EQ(c.update(1500), 3.0);  // counting goes on from the new origin
}

TEST(WrappingCounter, ValueAboveTheRangeIsAReset) {
  WrappingCounter c(1.0, 100);
  c.update(150);  // impossible for a counter of range 100
  EXPECT_DOUBLE_EQ(c.update(10), 0.0);
  EXPECT_EQ(c.resets(), 1u);
}

TEST(WrappingCounter, EqualValuesAddNothing) {
  WrappingCounter c(1.0, 100);
  c.update(42);
  c.update(42);
  EXPECT_DOUBLE_EQ(c.joules(), 0.0);
  EXPECT_EQ(c.wraps(), 0u);
}

TEST(WrappingCounter, LargeTotalsStayExact) {
  // 64-bit millijoule counters of a long run: no precision lost in the sum.
  WrappingCounter c(1e-3, 0);
  c.update(0);
  for (std::uint64_t v = 1; v <= 1000; ++v) c.update(v * 1000000007ULL);
  EXPECT_DOUBLE_EQ(c.joules(), 1000.0 * 1000000007.0 * 1e-3);
}

// ------------------------------------------------------------------ PowerIntegrator

TEST(PowerIntegrator, ConstantPowerIsPowerTimesTime) {
  PowerIntegrator p;
  EXPECT_DOUBLE_EQ(p.add(0.0, 100.0), 0.0);
  EXPECT_DOUBLE_EQ(p.add(2.0, 100.0), 200.0);
  EXPECT_DOUBLE_EQ(p.add(2.5, 100.0), 250.0);
}

TEST(PowerIntegrator, LinearRampIsIntegratedExactly) {
  // P(t) = 100 + 20 t over [0, 10]: integral 1000 + 10 * 100 = 2000 J, whatever the steps.
  PowerIntegrator p;
  for (int i = 0; i <= 10; ++i) p.add(i, 100.0 + 20.0 * i);
  EXPECT_DOUBLE_EQ(p.joules(), 2000.0);
  PowerIntegrator coarse;
  coarse.add(0.0, 100.0);
  coarse.add(10.0, 300.0);
  EXPECT_DOUBLE_EQ(coarse.joules(), 2000.0);
}

TEST(PowerIntegrator, RampUpAndDown) {
  // 0 W -> 200 W over 1 s, back to 0 W over 3 s: triangle of 0.5 * 4 * 200 = 400 J.
  PowerIntegrator p;
  p.add(10.0, 0.0);
  p.add(11.0, 200.0);
  p.add(14.0, 0.0);
  EXPECT_DOUBLE_EQ(p.joules(), 400.0);
}

TEST(PowerIntegrator, OutOfOrderAndRepeatedSamplesAddNothing) {
  PowerIntegrator p;
  p.add(1.0, 100.0);
  p.add(2.0, 100.0);  // 100 J
  p.add(2.0, 500.0);  // same time: no area
  p.add(1.5, 900.0);  // earlier: ignored
  EXPECT_DOUBLE_EQ(p.joules(), 100.0);
  p.add(3.0, 100.0);  // from (2, 500): 0.5 * (500 + 100) * 1
  EXPECT_DOUBLE_EQ(p.joules(), 400.0);
}

// ------------------------------------------------------------------ Timeline

TEST(Timeline, EmptyTimelineHasNoEnergy) {
  Timeline tl;
  EXPECT_TRUE(tl.empty());
  EXPECT_DOUBLE_EQ(tl.energy_at(5.0), 0.0);
  EXPECT_FALSE(tl.covers(0.0));
}

TEST(Timeline, InterpolatesLinearlyBetweenPoints) {
  Timeline tl;
  tl.append(0.0, 0.0);
  tl.append(10.0, 1000.0);
  tl.append(20.0, 1500.0);
  EXPECT_DOUBLE_EQ(tl.energy_at(2.5), 250.0);
  EXPECT_DOUBLE_EQ(tl.energy_at(10.0), 1000.0);
  EXPECT_DOUBLE_EQ(tl.energy_at(15.0), 1250.0);
  EXPECT_DOUBLE_EQ(tl.energy_between(5.0, 15.0), 750.0);
  EXPECT_TRUE(tl.covers(20.0));
  EXPECT_FALSE(tl.covers(20.5));
}

TEST(Timeline, ClampsOutsideItsPoints) {
  Timeline tl;
  tl.append(5.0, 100.0);
  tl.append(6.0, 200.0);
  EXPECT_DOUBLE_EQ(tl.energy_at(0.0), 100.0);   // before the first point: the first value
  EXPECT_DOUBLE_EQ(tl.energy_at(60.0), 200.0);  // after the last: what was measured stands
  EXPECT_DOUBLE_EQ(tl.energy_between(6.0, 60.0), 0.0);
}

TEST(Timeline, StaysMonotoneWhateverIsAppended) {
  Timeline tl;
  tl.append(0.0, 0.0);
  tl.append(1.0, 100.0);
  tl.append(2.0, 50.0);  // a decrease is clamped to the last value
  EXPECT_DOUBLE_EQ(tl.energy_at(2.0), 100.0);
  tl.append(1.5, 300.0);  // a time in the past is moved to the last time
  EXPECT_EQ(tl.size(), 3u);
  EXPECT_DOUBLE_EQ(tl.back().t, 2.0);
  EXPECT_DOUBLE_EQ(tl.back().joules, 300.0);
}

TEST(Timeline, SameTimeReplacesTheValue) {
  Timeline tl;
  tl.append(0.0, 0.0);
  tl.append(1.0, 10.0);
  tl.append(1.0, 12.0);
  EXPECT_EQ(tl.size(), 2u);
  EXPECT_DOUBLE_EQ(tl.energy_at(1.0), 12.0);
}

TEST(Timeline, ForgetBeforeKeepsInterpolationExact) {
  Timeline tl;
  for (int i = 0; i <= 100; ++i) tl.append(i, 7.0 * i * i);  // non-linear energy
  double at_42_5 = tl.energy_at(42.5);
  double at_80 = tl.energy_at(80.25);
  double between = tl.energy_between(42.5, 99.9);
  tl.forget_before(42.5);
  // The last point at or before 42.5 (t = 42) stays, so interpolation at 42.5 is unchanged.
  EXPECT_DOUBLE_EQ(tl.points().front().t, 42.0);
  EXPECT_EQ(tl.size(), 59u);
  EXPECT_DOUBLE_EQ(tl.energy_at(42.5), at_42_5);
  EXPECT_DOUBLE_EQ(tl.energy_at(80.25), at_80);
  EXPECT_DOUBLE_EQ(tl.energy_between(42.5, 99.9), between);
}

TEST(Timeline, ForgetBeforeAnExactPointAndBeyondTheEnd) {
  Timeline tl;
  tl.append(0.0, 0.0);
  tl.append(1.0, 10.0);
  tl.append(2.0, 30.0);
  tl.forget_before(1.0);
  EXPECT_EQ(tl.size(), 2u);
  EXPECT_DOUBLE_EQ(tl.energy_at(1.0), 10.0);
  tl.forget_before(-5.0);  // nothing before: nothing dropped
  EXPECT_EQ(tl.size(), 2u);
  tl.forget_before(50.0);  // the last point always stays
  EXPECT_EQ(tl.size(), 1u);
  EXPECT_DOUBLE_EQ(tl.energy_at(50.0), 30.0);
}

}  // namespace
