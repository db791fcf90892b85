// Issue 13, the sampler's adaptive period: after Sampler::kQuietAfterS without a boundary, meters
// cumulative between reads (core/linear_meter.hpp) are read every MeterSet::kQuietPeriodS
// instead of every period; the first boundary of a quiet spell wakes the sampler, whose round
// reads every meter right after it. Driven on a ManualClock through the sampler's own decisions
// (plan_wait_locked, push_locked, take_batch_locked, MeterSet::read), one step per round.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <charconv>
#include <cmath>
#include <fstream>
#include <limits>
#include <thread>

#include "core/linear_meter.hpp"
#include "core/meter_set.hpp"
#include "core/sampler.hpp"
#include "epochwatt/epochwatt.hpp"
#include "meters/estimate/estimate.hpp"
#include "meters/replay/replay.hpp"
#include "unit/support.hpp"

namespace {

using namespace epochwatt;
using detail::Boundary;
using detail::MeterSet;
using detail::Sampler;

// A meter decorator that counts reads and keeps their times, marked cumulative between reads
// (as the CPU estimate, RAPL, NVML's counter) unless `longest_s` is 0.
class Recorded final : public Meter, public detail::CumulativeBetweenReads {
 public:
  Recorded(std::shared_ptr<Meter> inner, double longest_s) : inner_(std::move(inner)), longest_(longest_s) {}
  const MeterInfo& info() const override { return inner_->info(); }
  double longest_period_s() const override { return longest_; }
  void open(double t) override { inner_->open(t); }
  MeterReading read(double t) override {
    times.push_back(t);
    return inner_->read(t);
  }
  bool read_at(double t) const {
    return std::any_of(times.begin(), times.end(), [t](double r) { return std::abs(r - t) < 1e-6; });
  }
  std::size_t reads_between(double from, double until) const {
    return static_cast<std::size_t>(std::count_if(times.begin(), times.end(), [&](double r) { return r > from && r < until; }));
  }
  std::vector<double> times;

 private:
  std::shared_ptr<Meter> inner_;
  double longest_;
};

const auto kNoWarn = [](const std::string& m) { ADD_FAILURE() << m; };

// The sampler's loop on a ManualClock: each step plans the sleep, queues the boundaries stamped
// before its end (a push that asks for a wake-up ends the sleep at that boundary), and makes the
// round as Sampler::loop does. Boundaries alternate epoch_start / epoch_end.
struct Drive {
  int rounds = 0;
  std::vector<double> woken_at;      // boundaries whose push asked for a wake-up
  std::vector<double> quiet_rounds;  // rounds planned quiet
};

Drive drive(Sampler& sampler, MeterSet& set, ManualClock& clock, const std::vector<double>& bounds, double end) {
  Drive d;
  std::size_t next = 0;
  double t = clock.now();
  while (t < end) {
    double round_t;
    bool quiet;
    {
      std::lock_guard lk(sampler.mutex());
      round_t = t + sampler.plan_wait_locked(t);
      quiet = sampler.quiet_locked();
      for (; next < bounds.size() && bounds[next] < round_t; ++next) {
        Boundary b{next % 2 == 0 ? Boundary::Kind::epoch_start : Boundary::Kind::epoch_end, bounds[next],
                   static_cast<int>(next / 2) + 1};
        if (sampler.push_locked(b)) {
          d.woken_at.push_back(b.t);
          round_t = b.t;  // woken at once (the wake-up's microseconds left out)
          ++next;
          break;
        }
      }
    }
    std::deque<Boundary> batch;
    {
      std::lock_guard lk(sampler.mutex());
      batch = sampler.take_batch_locked();
    }
    t = round_t;
    clock.set(t);
    double cover = -std::numeric_limits<double>::infinity();
    for (const auto& b : batch) cover = std::max(cover, b.t);
    set.read(t, cover, kNoWarn, quiet);
    ++d.rounds;
    if (quiet) d.quiet_rounds.push_back(t);
  }
  return d;
}

TEST(AdaptivePeriod, QuietPeriodsOfTheMeters) {
  auto clock = std::make_shared<ManualClock>(0.0);
  auto flat = [](const char* id) { return std::make_shared<ewtest::ScriptedMeter>(id, Component::cpu, "cpu:0", 10.0); };
  auto cumulative = std::make_shared<Recorded>(flat("a"), std::numeric_limits<double>::infinity());
  auto wraps_soon = std::make_shared<Recorded>(flat("b"), 3.0);   // a counter that wraps in 3 s at 1 kW
  auto power = std::make_shared<Recorded>(flat("c"), 0.0);        // integrated power: not cumulative
  auto unmarked = flat("d");
  MeterSet set({cumulative, wraps_soon, power, unmarked}, 1.0, clock);
  ASSERT_EQ(set.slots().size(), 4u);
  EXPECT_DOUBLE_EQ(set.slots()[0].quiet_period, MeterSet::kQuietPeriodS);
  EXPECT_DOUBLE_EQ(set.slots()[1].quiet_period, 3.0);
  EXPECT_DOUBLE_EQ(set.slots()[2].quiet_period, 1.0);
  EXPECT_DOUBLE_EQ(set.slots()[3].quiet_period, 1.0);
  EXPECT_TRUE(set.can_go_quiet());
  EXPECT_DOUBLE_EQ(set.shortest_period(), 1.0);
  set.open(0.0);
  EXPECT_DOUBLE_EQ(set.wait_s(0.0, 1.0), 1.0);
  EXPECT_DOUBLE_EQ(set.wait_s(0.0, 10.0, true), 1.0);  // the unmarked meters keep their period

  // A period of 5 s or more (update_interval) leaves nothing to stretch.
  MeterSet slow({cumulative}, 5.0, clock);
  EXPECT_DOUBLE_EQ(slow.slots()[0].quiet_period, 5.0);
  EXPECT_FALSE(slow.can_go_quiet());
  // Only unmarked meters: never quiet.
  MeterSet plain({unmarked}, 1.0, clock);
  EXPECT_FALSE(plain.can_go_quiet());
}

TEST(AdaptivePeriod, TheEstimatesAreMarked) {
  ewtest::TempDir dir;
  ewtest::write_file(dir.str() + "/cpuinfo", "processor\t: 0\nmodel name\t: Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz\n");
  ewtest::write_file(dir.str() + "/stat", "cpu  100 0 100 800 0 0 0 0 0 0\ncpu0 100 0 100 800 0 0 0 0 0 0\n");
  ewtest::write_file(dir.str() + "/meminfo", "MemTotal:       16777216 kB\n");
  meters::EstimateConfig c;
  c.proc_root = dir.str();
  Discovery d = meters::discover_estimate(c, true, true);
  ASSERT_EQ(d.meters.size(), 2u);
  EXPECT_TRUE(std::isinf(detail::cumulative_longest_period_s(d.meters[0])));  // CPU: jiffies
  EXPECT_EQ(detail::cumulative_longest_period_s(d.meters[1]), 0.0);  // DRAM: linear, read every 60 s
  auto clock = std::make_shared<ManualClock>(0.0);
  MeterSet set(d.meters, 1.0, clock);
  EXPECT_DOUBLE_EQ(set.slots()[0].period, 1.0);
  EXPECT_DOUBLE_EQ(set.slots()[0].quiet_period, MeterSet::kQuietPeriodS);
  EXPECT_DOUBLE_EQ(set.slots()[1].quiet_period, meters::kDramPollS);
}

TEST(AdaptivePeriod, IdleSamplerWakesOncePerQuietPeriod) {
  // No boundary for a minute: the cumulative meter is read every 5 s (12 rounds, not 60).
  auto clock = std::make_shared<ManualClock>(0.0);
  auto m = std::make_shared<Recorded>(std::make_shared<ewtest::ScriptedMeter>("a", Component::cpu, "cpu:0", 10.0),
                                      std::numeric_limits<double>::infinity());
  MeterSet set({m}, 1.0, clock);
  set.open(0.0);
  Sampler sampler(clock, set, 1.0, [](const std::string&) {});
  Drive d = drive(sampler, set, *clock, {}, 60.0);
  EXPECT_EQ(d.rounds, 12);
  EXPECT_EQ(m->times.size(), 12u);
  EXPECT_EQ(d.quiet_rounds.size(), 12u);
  EXPECT_TRUE(d.woken_at.empty());
  // The same with an unmarked meter: every second.
  auto clock2 = std::make_shared<ManualClock>(0.0);
  auto plain = std::make_shared<ewtest::ScriptedMeter>("p", Component::cpu, "cpu:0", 10.0);
  MeterSet set2({plain}, 1.0, clock2);
  set2.open(0.0);
  Sampler sampler2(clock2, set2, 1.0, [](const std::string&) {});
  Drive d2 = drive(sampler2, set2, *clock2, {}, 60.0);
  EXPECT_EQ(d2.rounds, 60);
  EXPECT_TRUE(d2.quiet_rounds.empty());
}

TEST(AdaptivePeriod, FirstBoundaryOfAQuietSpellWakesAndIsReadAtItsTime) {
  auto clock = std::make_shared<ManualClock>(0.0);
  auto m = std::make_shared<Recorded>(std::make_shared<ewtest::ScriptedMeter>("a", Component::cpu, "cpu:0", 10.0),
                                      std::numeric_limits<double>::infinity());
  MeterSet set({m}, 1.0, clock);
  set.open(0.0);
  Sampler sampler(clock, set, 1.0, [](const std::string&) {});
  // A 40 s epoch from 2.3 s, then a 0.5 s one: the start of the first falls in the quiet
  // start-up, its end 28 s after the sampler went quiet again (10 s after the start).
  const std::vector<double> bounds = {2.3, 42.7, 42.75, 43.25};
  Drive d = drive(sampler, set, *clock, bounds, 60.0);
  ASSERT_EQ(d.woken_at.size(), 2u);
  EXPECT_DOUBLE_EQ(d.woken_at[0], 2.3);
  EXPECT_DOUBLE_EQ(d.woken_at[1], 42.7);
  EXPECT_TRUE(m->read_at(2.3));  // a reading right at each woken boundary
  EXPECT_TRUE(m->read_at(42.7));
  // Attentive for 10 s after each boundary: every second from 2.3 to 12.3, then every 5 s.
  for (int k = 1; k <= 10; ++k) EXPECT_TRUE(m->read_at(2.3 + k)) << k;
  // Quiet from 12.3 s (or the round after, as the sums of seconds round): 5 s apart until 42.7.
  EXPECT_LE(m->reads_between(12.5, 42.6), 7u);
  EXPECT_GE(m->reads_between(12.5, 42.6), 5u);
  // The second epoch's bounds, 50 ms and 0.5 s after the woken round, wait for the regular
  // rounds (the attentive period); each lies between two readings no more than 1 s apart.
  for (double b : {42.75, 43.25}) {
    auto after = std::lower_bound(m->times.begin(), m->times.end(), b);
    ASSERT_NE(after, m->times.end());
    ASSERT_NE(after, m->times.begin());
    EXPECT_LE(*after - *(after - 1), 1.0 + 1e-9) << b;
  }
  // 60 s: 2 woken rounds, 10 + 11 attentive ones (after 2.3 and after 42.7..43.25), the rest quiet.
  EXPECT_LT(d.rounds, 40);
}

TEST(AdaptivePeriod, NoWakeUpWhenBoundariesComeEveryTwoSeconds) {
  // A loop with 2 s epochs and 2 s gaps (the caller's benchmark at its 2 s gap) stays attentive:
  // only the run's first boundary, in the quiet start-up, wakes the sampler.
  auto clock = std::make_shared<ManualClock>(0.0);
  auto m = std::make_shared<Recorded>(std::make_shared<ewtest::ScriptedMeter>("a", Component::cpu, "cpu:0", 10.0),
                                      std::numeric_limits<double>::infinity());
  MeterSet set({m}, 1.0, clock);
  set.open(0.0);
  Sampler sampler(clock, set, 1.0, [](const std::string&) {});
  std::vector<double> bounds;
  for (double b = 0.5; b < 120.0; b += 2.0) bounds.push_back(b);
  Drive d = drive(sampler, set, *clock, bounds, 121.0);
  ASSERT_EQ(d.woken_at.size(), 1u);
  EXPECT_DOUBLE_EQ(d.woken_at[0], 0.5);
  EXPECT_TRUE(d.quiet_rounds.empty() || d.quiet_rounds.back() <= 0.5);
}

TEST(AdaptivePeriod, H100TraceWithinOnePercentWithTheQuietStartUp) {
  // The shared H100 trace: 9.4 s before the first epoch (the sampler goes quiet), then six
  // epochs of 3.5 to 5.6 s back to back. The counter (0.1 s), marked cumulative: each epoch stays
  // within 1 % of the counter reference, as in QuietBoundaries.H100TraceWithinOnePercentAtTheCounterPeriod.
  const std::string dir = EPOCHWATT_TEST_DATA_DIR;
  auto trace = meters::load_trace(dir + "/h100-cnn-training.csv");
  std::ifstream in(dir + "/h100-cnn-training.epochs.csv");
  std::string line;
  std::getline(in, line);
  std::vector<double> bounds;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    auto c1 = line.find(','), c2 = line.find(',', c1 + 1);
    double s = 0, e = 0;
    std::from_chars(line.data() + c1 + 1, line.data() + c2, s);
    std::from_chars(line.data() + c2 + 1, line.data() + line.size(), e);
    bounds.push_back(s);
    bounds.push_back(e);
  }
  ASSERT_EQ(bounds.size(), 12u);
  auto reference = [&](double t) {  // the counter, linear between the trace's samples
    auto hi = std::upper_bound(trace.begin(), trace.end(), t,
                               [](double v, const meters::TraceSample& s) { return v < s.t_s; });
    if (hi == trace.begin()) return trace.front().energy_mj / 1000.0;
    if (hi == trace.end()) return trace.back().energy_mj / 1000.0;
    auto lo = hi - 1;
    double f = (t - lo->t_s) / (hi->t_s - lo->t_s);
    return (lo->energy_mj + f * (static_cast<double>(hi->energy_mj) - lo->energy_mj)) / 1000.0;
  };
  for (double phase : {0.0, 0.037, 0.071}) {
    auto clock = std::make_shared<ManualClock>(phase);
    auto meter = std::make_shared<Recorded>(meters::make_replay_meter(trace, Component::gpu, "H100", false, 0.0),
                                            std::numeric_limits<double>::infinity());
    ASSERT_DOUBLE_EQ(meter->info().poll_period_s, 0.1);
    MeterSet set({meter}, 1.0, clock);
    set.open(phase);
    Sampler sampler(clock, set, 1.0, [](const std::string&) {});
    Drive d = drive(sampler, set, *clock, bounds, bounds.back() + 1.0);
    ASSERT_FALSE(d.woken_at.empty());
    EXPECT_DOUBLE_EQ(d.woken_at[0], bounds[0]);  // the first start, after 9.4 s of quiet
    EXPECT_FALSE(d.quiet_rounds.empty());
    for (std::size_t i = 0; i + 1 < bounds.size(); i += 2) {
      double ref = reference(bounds[i + 1]) - reference(bounds[i]);
      double measured = set.joules_between(bounds[i], bounds[i + 1]);
      EXPECT_NEAR(measured, ref, 0.01 * ref) << "epoch " << i / 2 + 1 << ", phase " << phase;
    }
  }
}

TEST(AdaptivePeriod, SamplerThreadWokenFromItsQuietSleepByABoundary) {
  // The real thread on a ManualClock (its sleeps are real seconds): once it sleeps quiet (5 s,
  // no boundary yet), a boundary stamped at 2 s asks for a wake-up, and the round that follows
  // reads the meter at 2 s.
  auto clock = std::make_shared<ManualClock>(0.0);
  auto m = std::make_shared<Recorded>(std::make_shared<ewtest::ScriptedMeter>("a", Component::cpu, "cpu:0", 10.0),
                                      std::numeric_limits<double>::infinity());
  MeterSet set({m}, 1.0, clock);
  set.open(0.0);
  Sampler sampler(clock, set, 1.0, [](const std::string&) {});
  std::vector<double> handled;  // the boundaries each round handed over (sampler thread, under no lock)
  std::mutex handled_mu;
  sampler.start(
      [&](double, const std::deque<Boundary>& batch, bool) {
        std::lock_guard lk(handled_mu);
        for (const auto& b : batch) handled.push_back(b.t);
        return -std::numeric_limits<double>::infinity();
      },
      [](const std::string& what) { ADD_FAILURE() << what; });
  bool stretched = false;
  for (int i = 0; i < 1000 && !stretched; ++i) {  // until it sleeps quiet (at once, in practice)
    {
      std::lock_guard lk(sampler.mutex());
      stretched = sampler.stretched_locked();
    }
    if (!stretched) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(stretched);
  clock->set(2.0);
  bool wake;
  {
    std::lock_guard lk(sampler.mutex());
    wake = sampler.push_locked({Boundary::Kind::epoch_start, 2.0, 1});
  }
  ASSERT_TRUE(wake);
  sampler.wake();
  {
    std::unique_lock lk(sampler.mutex());
    sampler.wait_idle(lk, [] { return true; });
  }
  {
    std::lock_guard lk(handled_mu);
    ASSERT_EQ(handled.size(), 1u);
  }
  EXPECT_TRUE(m->read_at(2.0));
  {
    std::lock_guard lk(sampler.mutex());
    sampler.quit_locked();
  }
  sampler.wake();
  sampler.join();
}

}  // namespace
