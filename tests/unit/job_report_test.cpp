// The job-wide reduction's records and sums (include/epochwatt/job_report.hpp), and rank 0's job
// blocks through the tracker (Tracker::rank_epoch, Tracker::report_job), without any transport.
#include <gtest/gtest.h>

#include <memory>
#include <sstream>

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
