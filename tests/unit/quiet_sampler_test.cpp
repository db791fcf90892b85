// Issue 13, a quieter sampler and a cheap caller: the /proc reader of the CPU estimate (a file kept
// open and read with pread), the DRAM estimate read rarely but still exact, and epoch boundaries
// that wake no one, resolved at the sampler's next round by interpolation between the readings
// around them.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <charconv>
#include <chrono>
#include <thread>
#include <fstream>
#include <limits>
#include <sstream>

#include "core/linear_meter.hpp"
#include "core/meter_set.hpp"
#include "core/sampler.hpp"
#include "epochwatt/epochwatt.hpp"
#include "meters/estimate/estimate.hpp"
#include "meters/estimate/proc_reader.hpp"
#include "meters/replay/replay.hpp"
#include "unit/support.hpp"

namespace {

using namespace epochwatt;
using meters::PreadFile;

// ------------------------------------------------------------------ /proc/stat, read with pread

TEST(ProcStatParse, FirstLineBusyAndTotal) {
  double busy = 0, total = 0;
  std::string why;
  // user nice system idle iowait irq softirq steal guest guest_nice
  ASSERT_TRUE(meters::parse_cpu_jiffies("cpu  10 20 30 400 50 6 7 8 9 10\ncpu0 1 2 3 4\nintr 5\n", &busy, &total, &why));
  EXPECT_DOUBLE_EQ(busy, 10 + 20 + 30 + 6 + 7 + 8);
  EXPECT_DOUBLE_EQ(total, busy + 400 + 50);
  // An old kernel's four fields: the missing ones count 0.
  ASSERT_TRUE(meters::parse_cpu_jiffies("cpu 1 2 3 4\n", &busy, &total, &why));
  EXPECT_DOUBLE_EQ(busy, 6);
  EXPECT_DOUBLE_EQ(total, 10);
}

TEST(ProcStatParse, RefusesWhatIsNotTheMachineLine) {
  double busy = 0, total = 0;
  std::string why;
  EXPECT_FALSE(meters::parse_cpu_jiffies("cpu0 1 2 3 4\n", &busy, &total, &why));
  EXPECT_EQ(why, "no 'cpu' line first");
  EXPECT_FALSE(meters::parse_cpu_jiffies("intr 1 2 3\ncpu 1 2 3 4\n", &busy, &total, &why));
  EXPECT_FALSE(meters::parse_cpu_jiffies("", &busy, &total, &why));
  EXPECT_FALSE(meters::parse_cpu_jiffies("cpu  0 0 0 0\n", &busy, &total, &why));
  EXPECT_EQ(why, "the 'cpu' line counts no time");
  // Garbage after the label: nothing parsed, nothing counted.
  EXPECT_FALSE(meters::parse_cpu_jiffies("cpu  x y z\n", &busy, &total, &why));
}

TEST(PreadFile, ReadsTheSameOpenFileAgainAfterItChanges) {
  ewtest::TempDir dir;
  std::string path = dir.str() + "/stat";
  ewtest::write_file(path, "cpu  1 0 1 8\n");
  PreadFile f(path);
  std::string_view head;
  std::string why;
  ASSERT_TRUE(f.read_head(&head, &why)) << why;
  EXPECT_EQ(head, "cpu  1 0 1 8\n");
  EXPECT_TRUE(f.is_open());
  ewtest::write_file(path, "cpu  22 0 2 80\n");  // rewritten in place, as procfs content changes
  ASSERT_TRUE(f.read_head(&head, &why)) << why;
  EXPECT_EQ(head, "cpu  22 0 2 80\n");
  // Longer than the buffer: the head only, which holds the first line.
  ewtest::write_file(path, "cpu  3 0 3 9\n" + std::string(4 * PreadFile::kBytes, 'x'));
  ASSERT_TRUE(f.read_head(&head, &why)) << why;
  EXPECT_EQ(head.size(), PreadFile::kBytes);
  EXPECT_EQ(head.substr(0, 13), "cpu  3 0 3 9\n");
}

TEST(PreadFile, MissingFileSaysWhyAndIsOpenedOnceItExists) {
  ewtest::TempDir dir;
  std::string path = dir.str() + "/stat";
  PreadFile f(path);
  std::string_view head;
  std::string why;
  EXPECT_FALSE(f.read_head(&head, &why));
  EXPECT_EQ(why, "No such file or directory");
  EXPECT_FALSE(f.is_open());
  ewtest::write_file(path, "cpu  5 0 5 10\n");
  ASSERT_TRUE(f.read_head(&head, &why)) << why;
  EXPECT_EQ(head, "cpu  5 0 5 10\n");
}

TEST(PreadFile, RefusesAFifoWithoutBlocking) {
  ewtest::TempDir dir;
  std::string path = dir.str() + "/stat";
  ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
  PreadFile f(path);
  std::string_view head;
  std::string why;
  EXPECT_FALSE(f.read_head(&head, &why));  // a blocking open of a FIFO without writer never returns
  EXPECT_EQ(why, "not a regular file (a FIFO); refused, as reading it could block");
}

TEST(PreadFile, RealProcStatAtOffsetZeroEachTime) {
  PreadFile f("/proc/stat");
  std::string_view head;
  std::string why;
  double busy0 = 0, total0 = 0, busy1 = 0, total1 = 0;
  ASSERT_TRUE(f.read_head(&head, &why)) << why;
  ASSERT_TRUE(meters::parse_cpu_jiffies(head, &busy0, &total0, &why)) << why;
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // let the counters move (or not)
  ASSERT_TRUE(f.read_head(&head, &why)) << why;  // procfs builds the file anew for a read at 0
  ASSERT_TRUE(meters::parse_cpu_jiffies(head, &busy1, &total1, &why)) << why;
  EXPECT_GE(busy1, busy0);
  EXPECT_GE(total1, total0);
}

// A fake /proc in a temporary folder, for the estimate backend.
struct FakeProc {
  ewtest::TempDir dir;
  FakeProc() {
    write("cpuinfo", "processor\t: 0\nmodel name\t: Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz\n");
    write("stat", "cpu  100 0 100 800 0 0 0 0 0 0\ncpu0 50 0 50 400 0 0 0 0 0 0\ncpu1 50 0 50 400 0 0 0 0 0 0\n");
    write("meminfo", "MemTotal:       16777216 kB\nMemFree: 1 kB\n");
  }
  void write(const std::string& rel, const std::string& text) const { ewtest::write_file(dir.str() + "/" + rel, text); }
  meters::EstimateConfig config() const {
    meters::EstimateConfig c;
    c.proc_root = dir.str();
    return c;
  }
};

TEST(EstimateReadings, CpuMeterFollowsTheOpenStatFile) {
  FakeProc proc;
  Discovery d = meters::discover_estimate(proc.config(), true, false);
  ASSERT_EQ(d.meters.size(), 1u);
  Meter& cpu = *d.meters[0];
  cpu.open(0.0);
  // 150 W TDP (Xeon Gold 6248). +100 busy of +200: 50 % for 10 s = 750 J.
  proc.write("stat", "cpu  150 0 150 900 0 0 0 0 0 0\n");
  EXPECT_NEAR(cpu.read(10.0).joules, 750.0, 1e-9);
  // +200 busy of +200: 100 % for 2 s = 300 J more.
  proc.write("stat", "cpu  250 0 250 900 0 0 0 0 0 0\n");
  EXPECT_NEAR(cpu.read(12.0).joules, 1050.0, 1e-9);
  // A line that is not the machine's: the read fails, the value stands, and says where.
  proc.write("stat", "garbage\n");
  MeterReading bad = cpu.read(13.0);
  EXPECT_FALSE(bad.ok);
  EXPECT_NE(bad.error.find(proc.dir.str() + "/stat"), std::string::npos) << bad.error;
  EXPECT_NE(bad.error.find("no 'cpu' line first"), std::string::npos) << bad.error;
  EXPECT_NEAR(bad.joules, 1050.0, 1e-9);
  // Back: 0 busy of +100 over 1 s: nothing more.
  proc.write("stat", "cpu  250 0 250 1000 0 0 0 0 0 0\n");
  EXPECT_NEAR(cpu.read(14.0).joules, 1050.0, 1e-9);
}

// An injected FileReader still answers every reading (the seam tests use to fake failures).
class CountingReader final : public meters::FileReader {
 public:
  meters::ReadResult read(const std::string& path) const override {
    ++reads;
    return meters::real_file_reader()->read(path);
  }
  std::vector<std::string> list(const std::string& dir, int* error) const override {
    return meters::real_file_reader()->list(dir, error);
  }
  mutable int reads = 0;
};

TEST(EstimateReadings, InjectedReaderAnswersTheReadings) {
  FakeProc proc;
  auto reader = std::make_shared<CountingReader>();
  meters::EstimateConfig c = proc.config();
  c.reader = reader;
  Discovery d = meters::discover_estimate(c, true, false);
  ASSERT_EQ(d.meters.size(), 1u);
  d.meters[0]->open(0.0);
  int before = reader->reads;
  proc.write("stat", "cpu  150 0 150 900 0 0 0 0 0 0\n");
  EXPECT_NEAR(d.meters[0]->read(10.0).joules, 750.0, 1e-9);
  EXPECT_EQ(reader->reads, before + 1);
}

// ------------------------------------------------------------------ the DRAM estimate, read rarely

TEST(EstimateReadings, DramIsLinearBetweenReadsAndPolledRarely) {
  FakeProc proc;
  Discovery d = meters::discover_estimate(proc.config(), true, true);
  ASSERT_EQ(d.meters.size(), 2u);
  const MeterInfo& dram = d.meters[1]->info();
  EXPECT_EQ(dram.component, Component::dram);
  EXPECT_TRUE(detail::linear_between_reads(d.meters[1]));
  EXPECT_DOUBLE_EQ(dram.poll_period_s, meters::kDramPollS);
  EXPECT_FALSE(detail::linear_between_reads(d.meters[0]));
  EXPECT_DOUBLE_EQ(d.meters[0]->info().poll_period_s, 0.0);  // the CPU estimate: update_interval
}

// A meter decorator that counts reads (sampler thread only: MeterSet tests run on one thread).
class CountedMeter : public Meter {
 public:
  explicit CountedMeter(std::shared_ptr<Meter> inner) : inner_(std::move(inner)) {}
  const MeterInfo& info() const override { return inner_->info(); }
  void open(double t) override { inner_->open(t); }
  MeterReading read(double t) override {
    ++reads;
    return inner_->read(t);
  }
  int reads = 0;

 private:
  std::shared_ptr<Meter> inner_;
};
// The same around a meter linear between reads, keeping the mark.
class CountedLinearMeter final : public CountedMeter, public detail::LinearBetweenReads {
 public:
  using CountedMeter::CountedMeter;
};

TEST(SlowMeter, DramReadOnlyWhenDueOrABoundaryNeedsItAndStillExact) {
  FakeProc proc;
  Discovery d = meters::discover_estimate(proc.config(), true, true);
  ASSERT_EQ(d.meters.size(), 2u);
  auto cpu = std::make_shared<CountedMeter>(d.meters[0]);
  ASSERT_TRUE(detail::linear_between_reads(d.meters[1]));
  auto dram = std::make_shared<CountedLinearMeter>(d.meters[1]);
  auto clock = std::make_shared<ManualClock>(0.0);
  detail::MeterSet set({cpu, dram}, /*update_interval_s=*/1.0, clock);
  ASSERT_EQ(set.slots().size(), 2u);
  EXPECT_DOUBLE_EQ(set.slots()[0].period, 1.0);
  EXPECT_DOUBLE_EQ(set.slots()[1].period, meters::kDramPollS);  // not capped at update_interval
  set.open(0.0);
  auto no_warn = [](const std::string& m) { ADD_FAILURE() << m; };
  const double none = -std::numeric_limits<double>::infinity();
  // Regular rounds every second: the CPU estimate each time, the DRAM estimate never.
  for (int k = 1; k <= 10; ++k) {
    clock->set(k);
    set.read(k, none, no_warn);
  }
  EXPECT_EQ(cpu->reads, 10);
  EXPECT_EQ(dram->reads, 0);
  // A boundary stamped at 10.4, resolved at the round of 11: the DRAM estimate is read there too.
  clock->set(11.0);
  set.read(11.0, 10.4, no_warn);
  EXPECT_EQ(cpu->reads, 11);
  EXPECT_EQ(dram->reads, 1);
  // 16 GB x 0.375 W/GB = 6 W: its energy between any two times is exact by interpolation.
  double watts = 16.0 * meters::kDramWattsPerGb;
  std::vector<DeviceEnergy> e = set.energy_between(0.25, 10.4, nullptr);
  EXPECT_NEAR(e[1].joules, watts * (10.4 - 0.25), 1e-9);
  EXPECT_TRUE(e[1].complete);
  // Due a minute after its last reading (or within a tenth of its period before).
  clock->set(11.0 + meters::kDramPollS * 0.95);
  set.read(clock->now(), none, no_warn);
  EXPECT_EQ(dram->reads, 2);
  EXPECT_NEAR(set.energy_between(11.0, clock->now(), nullptr)[1].joules, watts * (clock->now() - 11.0), 1e-9);
}

TEST(SlowMeter, MetersOfOnePeriodShareARound) {
  // Two 1 s meters read a few microseconds apart are both due at the next round, so the
  // sampler wakes once per second, not twice.
  auto clock = std::make_shared<ManualClock>(0.0);
  auto a = std::make_shared<ewtest::ScriptedMeter>("a", Component::cpu, "cpu:0", 10.0);
  auto b = std::make_shared<ewtest::ScriptedMeter>("b", Component::gpu, "gpu:0", 10.0);
  detail::MeterSet set({a, b}, 1.0, clock);
  set.open(0.0);
  auto no_warn = [](const std::string& m) { ADD_FAILURE() << m; };
  clock->set(1.0);
  set.read(1.0, false, no_warn);  // a at 1.0; b stamped a little later:
  EXPECT_EQ(a->reads(), 1);
  EXPECT_EQ(b->reads(), 1);
  // As if b's reading had been stamped 30 us after a's: at a's next due time both are read.
  clock->set(2.0);
  set.read(2.0 - 30e-6, false, no_warn);  // within a tenth of a period of both
  EXPECT_EQ(a->reads(), 2);
  EXPECT_EQ(b->reads(), 2);
  EXPECT_NEAR(set.wait_s(2.0, 5.0), 1.0, 1e-9);
}

// ------------------------------------------------------------------ boundaries without a wake-up

TEST(QuietBoundaries, QueueAsksForAWakeUpOnlyWhenLong) {
  auto clock = std::make_shared<ManualClock>(0.0);
  detail::MeterSet set;
  detail::Sampler sampler(clock, set, 1.0, [](const std::string&) {});
  std::lock_guard lk(sampler.mutex());
  for (std::size_t i = 1; i < detail::Sampler::kWakeAtQueued; ++i)
    ASSERT_FALSE(sampler.push_locked({detail::Boundary::Kind::epoch_start, 0.0, 1})) << i;
  EXPECT_TRUE(sampler.push_locked({detail::Boundary::Kind::epoch_end, 0.0, 1}));
}

// Power steps from 0 to `watts` at `step_t`: E(t) = watts x max(0, t - step_t).
class StepMeter final : public Meter {
 public:
  StepMeter(double step_t, double watts) : step_t_(step_t), watts_(watts) {
    info_.id = "test:step";
    info_.component = Component::gpu;
    info_.device_name = "step";
    info_.method = Method::counter;
  }
  const MeterInfo& info() const override { return info_; }
  void open(double t) override { t_open_ = t; }
  MeterReading read(double t) override {
    MeterReading r;
    r.joules = watts_ * std::max(0.0, t - std::max(step_t_, t_open_));
    return r;
  }

 private:
  MeterInfo info_;
  double step_t_, watts_, t_open_ = 0.0;
};

TEST(QuietBoundaries, ResolvedAtTheNextRoundByInterpolation) {
  auto clock = std::make_shared<ManualClock>(0.0);
  std::ostringstream console;
  Options o = ewtest::deterministic_options(clock, &console, 2);
  // No regular round during the test (1000 s period): a round happens only when flush() asks,
  // which stands for the sampler's next regular round, late after the boundary.
  o.update_interval = 1000.0;
  auto flat = std::make_shared<ewtest::ScriptedMeter>("test:flat", Component::cpu, "cpu:0", 100.0);
  auto step = std::make_shared<StepMeter>(5.0, 200.0);
  o.meters = {flat, step};
  Tracker t(o);
  clock->set(2.0);
  t.epoch_start();  // queued; no reading at 2
  clock->set(4.0);
  t.flush();  // the round at 4 reads both meters (none was read since 2) and resolves the start
  EXPECT_EQ(flat->reads(), 1);
  clock->set(9.0);
  t.epoch_end();
  clock->set(10.0);
  t.flush();  // round at 10: the end lies between the readings at 4 and 10
  EXPECT_EQ(flat->reads(), 2);
  auto epochs = t.epochs();
  ASSERT_EQ(epochs.size(), 1u);
  EXPECT_NEAR(epochs[0].duration_s, 7.0, 1e-12);  // the caller's time stamps, not the rounds'
  ASSERT_EQ(epochs[0].devices.size(), 2u);
  auto device = [&](const std::string& id) {
    for (const auto& d : epochs[0].devices)
      if (d.meter_id == id) return d;
    ADD_FAILURE() << "no device " << id;
    return DeviceEnergy{};
  };
  // Constant power: interpolation is exact whatever the readings around the boundaries.
  EXPECT_NEAR(device("test:flat").joules, 100.0 * 7.0, 1e-9);
  EXPECT_TRUE(device("test:flat").complete);
  // The step at 5 lies between the readings at 4 and 10: E(9) is read off the line from
  // (4, 0) to (10, 200 x 5), not 200 x 4 = 800 J as a reading at 9 would give. The error is
  // within the bound of linear interpolation, dP x (t - a)(b - t) / (b - a) = 200 x 5 x 1 / 6.
  double interpolated = 200.0 * 5.0 * (9.0 - 4.0) / (10.0 - 4.0);
  EXPECT_NEAR(device("test:step").joules, interpolated, 1e-9);
  EXPECT_LE(std::abs(device("test:step").joules - 800.0), 200.0 * 5.0 * 1.0 / 6.0 + 1e-9);
  t.stop();
}

TEST(QuietBoundaries, BackToBackEpochsBetweenTwoRounds) {
  // Many epochs between two rounds: each boundary is interpolated on the same two readings, and
  // the epochs' energies add up to the energy between the first start and the last end.
  auto clock = std::make_shared<ManualClock>(0.0);
  std::ostringstream console;
  Options o = ewtest::deterministic_options(clock, &console, 100);
  o.update_interval = 1000.0;
  auto flat = std::make_shared<ewtest::ScriptedMeter>("test:flat", Component::gpu, "gpu:0", 300.0);
  o.meters = {flat};
  Tracker t(o);
  for (int i = 0; i < 50; ++i) {
    clock->set(1.0 + 0.1 * i);
    t.epoch_start();
    clock->set(1.0 + 0.1 * i + 0.05);
    t.epoch_end();
  }
  clock->set(7.0);
  t.flush();
  EXPECT_EQ(flat->reads(), 1);  // one round for all hundred boundaries
  auto epochs = t.epochs();
  ASSERT_EQ(epochs.size(), 50u);
  for (const auto& e : epochs) EXPECT_NEAR(e.joules, 300.0 * 0.05, 1e-9) << "epoch " << e.index;
  t.stop();
}

// The H100 trace (tests/data), replayed through the MeterSet as the sampler drives it: rounds
// every poll period at an arbitrary phase, no reading at any boundary. Each epoch's boundaries are
// interpolated between the rounds around them; each epoch stays within 1 % of the counter
// reference (the replay test's criterion) at the GPU counter's period of 0.1 s.
TEST(QuietBoundaries, H100TraceWithinOnePercentAtTheCounterPeriod) {
  const std::string dir = EPOCHWATT_TEST_DATA_DIR;
  auto trace = meters::load_trace(dir + "/h100-cnn-training.csv");
  std::ifstream in(dir + "/h100-cnn-training.epochs.csv");
  std::string line;
  std::getline(in, line);
  std::vector<std::pair<double, double>> bounds;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    auto c1 = line.find(','), c2 = line.find(',', c1 + 1);
    double s = 0, e = 0;
    std::from_chars(line.data() + c1 + 1, line.data() + c2, s);
    std::from_chars(line.data() + c2 + 1, line.data() + line.size(), e);
    bounds.emplace_back(s, e);
  }
  ASSERT_EQ(bounds.size(), 6u);
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
    auto clock = std::make_shared<ManualClock>(0.0);
    auto meter = meters::make_replay_meter(trace, Component::gpu, "H100", false, 0.0);
    const double period = meter->info().poll_period_s;
    ASSERT_DOUBLE_EQ(period, 0.1);
    detail::MeterSet set({meter}, 1.0, clock);
    set.open(0.0);
    auto no_warn = [](const std::string& m) { ADD_FAILURE() << m; };
    const double none = -std::numeric_limits<double>::infinity();
    for (double r = phase; r <= bounds.back().second + period; r += period) {
      clock->set(r);
      set.read(r, none, no_warn);  // due every period; the boundaries read nothing
    }
    for (std::size_t i = 0; i < bounds.size(); ++i) {
      double ref = reference(bounds[i].second) - reference(bounds[i].first);
      double measured = set.joules_between(bounds[i].first, bounds[i].second);
      EXPECT_NEAR(measured, ref, 0.01 * ref) << "epoch " << i + 1 << ", phase " << phase;
    }
  }
}

}  // namespace
