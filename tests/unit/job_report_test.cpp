// The job-wide reduction's records and sums (include/epochwatt/job_report.hpp), and rank 0's job
// blocks through the tracker (Tracker::rank_epoch, Tracker::report_job), without any transport.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <sstream>
#include <thread>

#include "epochwatt/epochwatt.hpp"
#include "support.hpp"

using namespace epochwatt;

namespace {

RankEpoch record(int rank, int epoch, double gpu_j, double cpu_j, double s, const char* node, bool finished = false) {
  RankEpoch r;
  r.rank = rank;
  r.epoch = epoch;
  r.epochs_ended = epoch;
  r.finished = finished ? 1 : 0;
  r.node_hash = node_hash(node);
  r.duration_s = s;
  r.gpu_joules = gpu_j;
  r.cpu_joules = cpu_j;
  r.setup_s = 1.0;
  r.setup_joules = 10.0;
  r.total_s = 1.0 + epoch * s;
  r.total_joules = 10.0 + epoch * (gpu_j + cpu_j);
  return r;
}

}  // namespace

TEST(JobReport, SumsEnergyTakesTheLongestDurationAndCountsNodes) {
  JobReport job(4);
  EXPECT_TRUE(job.add(record(0, 1, 100, 50, 2.0, "a")));
  EXPECT_TRUE(job.add(record(1, 1, 100, 50, 3.0, "a")));
  EXPECT_TRUE(job.add(record(2, 1, 200, 50, 2.5, "b")));
  EXPECT_FALSE(job.complete_through(1));
  EXPECT_EQ(job.missing(false), std::vector<int>{3});
  EXPECT_TRUE(job.add(record(3, 1, 200, 50, 1.0, "b")));
  EXPECT_TRUE(job.complete_through(1));
  EXPECT_EQ(job.nodes(), 2);
  auto epochs = job.epochs(1);
  ASSERT_EQ(epochs.size(), 1u);
  EXPECT_DOUBLE_EQ(epochs[0].duration_s, 3.0);
  EXPECT_DOUBLE_EQ(epochs[0].joules, 800.0);
  EXPECT_DOUBLE_EQ(job.component_joules(1, true), 600.0);
  EXPECT_DOUBLE_EQ(job.component_joules(1, false), 200.0);
  EXPECT_DOUBLE_EQ(job.setup().duration_s, 1.0);
  EXPECT_DOUBLE_EQ(job.setup().joules, 40.0);
  EXPECT_DOUBLE_EQ(job.total_joules(), 40.0 + 800.0);
}

TEST(JobReport, AnEpochCountsOncePerRankAndOldOrForeignRecordsAreIgnored) {
  JobReport job(2);
  EXPECT_TRUE(job.add(record(1, 2, 10, 0, 1.0, "a")));
  EXPECT_TRUE(job.add(record(1, 2, 10, 0, 1.0, "a")));   // the same epoch again: totals replaced, not summed twice
  EXPECT_FALSE(job.add(record(1, 1, 10, 0, 1.0, "a")));  // older
  EXPECT_FALSE(job.add(record(2, 1, 10, 0, 1.0, "a")));  // no rank 2 in a world of 2
  EXPECT_FALSE(job.add(record(-1, 1, 10, 0, 1.0, "a")));
  EXPECT_DOUBLE_EQ(job.epochs(2).at(0).joules, 10.0);
  EXPECT_EQ(job.ranks_reported(), 1);
}

TEST(JobReport, NamesRanksMissingAtTheEndAndThoseThatStoppedEarly) {
  JobReport job(3);
  job.add(record(0, 4, 1, 1, 1.0, "a", true));
  job.add(record(1, 2, 1, 1, 1.0, "a", true));  // stopped after 2 epochs
  job.add(record(2, 3, 1, 1, 1.0, "b"));        // no final record
  EXPECT_FALSE(job.all_finished());
  EXPECT_EQ(job.missing(true), std::vector<int>{2});
  EXPECT_TRUE(job.missing(false).empty());
  EXPECT_EQ(job.stopped_early(), (std::vector<std::pair<int, int>>{{1, 2}}));
  EXPECT_EQ(job.epochs_ended(), 4);
  EXPECT_FALSE(job.add(record(1, 3, 1, 1, 1.0, "a")));  // nothing after a final record
  // A finished rank does not hold back the epochs it never reached.
  EXPECT_TRUE(job.complete_through(3));
  EXPECT_FALSE(job.complete_through(4));
}

TEST(JobReport, NodeHashIsFnv1a64) {
  // FNV-1a 64 of "" is the offset basis; of "a", the published test vector af63dc4c8601ec8c.
  EXPECT_EQ(node_hash(""), 14695981039346656037ull);
  EXPECT_EQ(node_hash("a"), 0xaf63dc4c8601ec8cull);
}

TEST(JobReport, TheTrackersRecordsSumToTheJobActualAndRankZeroPrintsTheJobsBlocks) {
  auto clock = std::make_shared<ManualClock>();
  std::ostringstream console0, console1;
  auto make = [&](int rank, std::ostringstream& console) {
    Options o = ewtest::deterministic_options(clock, &console, 2);
    o.meters = ewtest::section14_meters();
    o.rank = rank;
    o.world_size = 2;
    o.node = rank == 0 ? "node-a" : "node-b";
    o.job_reduction = true;
    return std::make_unique<Tracker>(o);
  };
  auto t0 = make(0, console0);
  auto t1 = make(1, console1);
  JobReport job(2);
  for (int e = 0; e < 2; ++e) {
    t0->epoch_start();
    t1->epoch_start();
    t0->flush();
    t1->flush();
    clock->advance(10.0);
    t0->epoch_end();
    t1->epoch_end();
    t0->flush();
    t1->flush();
    job.add(t0->rank_epoch());
    job.add(t1->rank_epoch());
    if (e == 0) {
      JobFootprint p = t0->report_job(job, JobReport::Stage::predicted);
      EXPECT_EQ(p.ranks, 2);
      EXPECT_EQ(p.nodes, 2);
      EXPECT_GT(p.footprint.energy_kwh, 0.0);
    }
  }
  t0->stop();
  t1->stop();
  RankEpoch last0 = t0->rank_epoch(), last1 = t1->rank_epoch();
  last0.finished = last1.finished = 1;
  job.add(last0);
  job.add(last1);
  ASSERT_TRUE(job.all_finished());
  JobFootprint a = t0->report_job(job, JobReport::Stage::actual);
  EXPECT_NEAR(a.footprint.energy_kwh, t0->totals().energy_kwh + t1->totals().energy_kwh, 1e-15);
  EXPECT_EQ(a.footprint.epochs, 2);
  EXPECT_TRUE(a.missing.empty());
  // Rank 0's console: the job's two blocks, not its own; rank 1's console: nothing.
  std::string c0 = console0.str();
  EXPECT_EQ(ewtest::count_occurrences(c0, "Predicted consumption"), 1u) << c0;
  EXPECT_EQ(ewtest::count_occurrences(c0, "Predicted consumption for 2 epoch(s), whole job (2 rank(s) on 2 node(s)):"), 1u) << c0;
  EXPECT_EQ(ewtest::count_occurrences(c0, "Actual consumption for 2 epoch(s), whole job (2 rank(s) on 2 node(s)):"), 1u) << c0;
  EXPECT_EQ(ewtest::count_occurrences(c0, "Actual consumption"), 1u) << c0;
  EXPECT_EQ(console1.str(), "");
}

TEST(JobReport, ALateRankIsNamedLateNotMissing) {
  JobReport job(3);
  job.add(record(0, 2, 1, 1, 1.0, "a"));
  job.add(record(1, 1, 1, 1, 1.0, "a"));  // behind: epoch 2 not in yet
  EXPECT_FALSE(job.complete_through(2));
  EXPECT_EQ(job.late(2), std::vector<int>{1});
  EXPECT_EQ(job.missing(false), std::vector<int>{2});  // never heard from: missing, not late
  EXPECT_TRUE(job.late(1).empty());
}

TEST(JobReport, AnInertRankIsNotWaitedForAndIsNamedInertNotStoppedEarly) {
  JobReport job(2);
  job.add(record(0, 2, 1, 1, 1.0, "a"));
  RankEpoch inert;  // what an inert tracker sends: its rank, nothing measured
  inert.rank = 1;
  inert.inert = 1;
  EXPECT_FALSE(job.complete_through(1));  // not heard from yet
  EXPECT_TRUE(job.add(inert));
  EXPECT_TRUE(job.complete_through(2));   // nothing of rank 1's is ever coming
  EXPECT_TRUE(job.late(2).empty());
  EXPECT_EQ(job.inert(), std::vector<int>{1});
  inert.finished = 1;
  EXPECT_TRUE(job.add(inert));
  EXPECT_TRUE(job.stopped_early().empty());
  EXPECT_DOUBLE_EQ(job.component_joules(2, true) + job.component_joules(2, false), 2.0);  // rank 0's only
}

TEST(JobReport, AnInertTrackersRecordSaysSoAndRankZeroNamesIt) {
  auto clock = std::make_shared<ManualClock>();
  std::ostringstream console0, console1;
  Options o1 = ewtest::deterministic_options(clock, &console1, 2);
  o1.ignore_errors = true;  // no meter: inert
  o1.rank = 1;
  o1.world_size = 2;
  o1.job_reduction = true;
  Tracker t1(o1);
  RankEpoch r1 = t1.rank_epoch();
  EXPECT_EQ(r1.rank, 1);
  EXPECT_EQ(r1.inert, 1);
  EXPECT_EQ(r1.epoch, 0);

  Options o0 = ewtest::deterministic_options(clock, &console0, 2);
  o0.meters = ewtest::section14_meters();
  o0.world_size = 2;
  o0.job_reduction = true;
  Tracker t0(o0);
  EXPECT_EQ(t0.rank_epoch().inert, 0);
  JobReport job(2);
  job.add(r1);
  ewtest::run_epoch(t0, *clock, 10.0);
  job.add(t0.rank_epoch());
  ASSERT_TRUE(job.complete_through(1));
  JobFootprint p = t0.report_job(job, JobReport::Stage::predicted);
  EXPECT_EQ(p.inert, std::vector<int>{1});
  EXPECT_TRUE(p.late.empty());
  EXPECT_TRUE(p.missing.empty());
  EXPECT_EQ(ewtest::count_occurrences(console0.str(), "Measuring nothing (inert tracker): rank(s) 1;"), 1u) << console0.str();
}

namespace {

// An intensity provider whose fetch hangs until let_go() (or 20 s), as a live request that hangs.
class HeldProvider : public IntensityProvider {
 public:
  std::string name() const override { return "held"; }
  std::optional<IntensityValue> current(const Location&, std::string*) override {
    entered_ = true;
    std::unique_lock lk(mu_);
    cv_.wait_for(lk, std::chrono::seconds(20), [&] { return released_; });
    answered_ = true;
    return IntensityValue{123.0, "held", "test provider", true, false};
  }
  void let_go() {
    {
      std::lock_guard lk(mu_);
      released_ = true;
    }
    cv_.notify_all();
  }
  std::atomic<bool> entered_{false}, answered_{false};

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool released_ = false;
};

}  // namespace

TEST(JobReport, FlushMeasurementsWaitsForTheEpochNotForAnIntensityFetch) {
  auto clock = std::make_shared<ManualClock>();
  std::ostringstream console;
  Options o = ewtest::deterministic_options(clock, &console, 3);
  o.meters = ewtest::section14_meters();
  auto held = std::make_shared<HeldProvider>();
  o.intensity_g_per_kwh.reset();
  o.country = "DK";
  o.live_providers = {"none"};
  o.cache_dir = "none";
  o.intensity_providers = {held};
  Tracker t(o);
  // The fetch asked for at the start is in the provider (and held there).
  for (int i = 0; i < 2000 && !held->entered_.load(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_TRUE(held->entered_.load());
  t.epoch_start();
  clock->advance(10.0);
  t.epoch_end();
  t.flush_measurements();
  // The epoch is in the record although the intensity fetch was still held when it returned.
  EXPECT_FALSE(held->answered_.load());
  RankEpoch r = t.rank_epoch();
  EXPECT_EQ(r.epoch, 1);
  EXPECT_GT(r.gpu_joules + r.cpu_joules, 0.0);
  held->let_go();
  t.flush();  // flush() does wait for the fetch
  EXPECT_TRUE(held->answered_.load());
  t.stop();
}
