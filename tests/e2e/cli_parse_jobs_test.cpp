// `epochwatt parse --by-job DIR` (issue 14, item 3) on folders written by real trackers run as the
// ranks of a job (Options::job_id, rank, world_size, node ...): the sentence, the table and the
// JSON, each device counted once per node, the warnings about missing ranks and devices measured
// twice, and runs without a job id beside them summed as `parse` sums them.
#include <gtest/gtest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "e2e/cli_harness.hpp"
#include "epochwatt/epochwatt.hpp"
#include "golden_check.hpp"

namespace {

using e2e::cli;
using e2e::TempDir;
using nlohmann::json;
using namespace epochwatt;

// A meter of constant power on the tracker's clock: joules = watts x (t - t_open).
class ConstantMeter final : public Meter {
 public:
  ConstantMeter(std::string id, Component c, std::string device, double watts) : watts_(watts) {
    info_.id = std::move(id);
    info_.component = c;
    info_.device_name = std::move(device);
    info_.method = Method::counter;
  }
  const MeterInfo& info() const override { return info_; }
  void open(double t) override { t0_ = t; }
  MeterReading read(double t) override { return {watts_ * (t - t0_), true, false, {}}; }

 private:
  MeterInfo info_;
  double watts_, t0_ = 0.0;
};

struct Rank {
  std::string job;
  int rank, world, local_rank, local_world;
  std::string node;
  double gpu_watts;
};

constexpr double kCpuWatts = 60.0, kEpochSeconds = 20.0, kIntensity = 300.0;
constexpr int kEpochs = 3;

// One rank's run into `dir`: its node's GPU of its local rank and the node's CPU (every rank
// measures the CPU: no election, so the CPU is measured once per rank on each node).
void run_rank(const std::string& dir, const Rank& r) {
  auto clock = std::make_shared<ManualClock>();
  std::ostringstream console;
  Options o;
  o.epochs = kEpochs;
  o.clock = clock;
  o.console = &console;
  o.discover_meters = false;
  o.intensity_g_per_kwh = kIntensity;
  o.meters = {std::make_shared<ConstantMeter>("nvml:" + std::to_string(r.local_rank), Component::gpu, "GPU", r.gpu_watts),
              std::make_shared<ConstantMeter>("rapl:0", Component::cpu, "cpu:0", kCpuWatts)};
  o.log_dir = dir;
  o.job_id = r.job;
  o.node = r.node;
  o.rank = r.rank;
  o.world_size = r.world;
  o.local_rank = r.local_rank;
  o.local_world_size = r.local_world;
  Tracker t(o);
  for (int e = 0; e < kEpochs; ++e) {
    t.epoch_start();
    t.flush();
    clock->advance(kEpochSeconds);
    t.epoch_end();
    t.flush();
  }
  t.stop();
}

// 4 ranks on 2 nodes of job "train-1", GPUs of 100, 200, 300 and 400 W.
void four_ranks(const std::string& dir) {
  for (int rank = 0; rank < 4; ++rank)
    run_rank(dir, {"train-1", rank, 4, rank % 2, 2, rank < 2 ? "node-a" : "node-b", 100.0 * (rank + 1)});
}

std::size_t lines_with(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (const auto& line : e2e::lines(text)) n += line.find(needle) != std::string::npos;
  return n;
}

TEST(CliParseByJob, FourRanksOnTwoNodesCountEachDeviceOnce) {
  TempDir tmp;
  std::string logs = tmp / "logs";
  four_ranks(logs);
  // Ranks 1 to 3 name their files with their rank; rank 0 keeps carbontracker's names.
  for (int rank : {1, 2, 3}) {
    EXPECT_NE(e2e::file_ending_with(logs, "_rank" + std::to_string(rank) + "_carbontracker.log"), "");
    EXPECT_NE(e2e::file_ending_with(logs, "_rank" + std::to_string(rank) + "_carbontracker_output.log"), "");
  }
  EXPECT_EQ(e2e::file_ending_with(logs, "_rank0_carbontracker.log"), "");

  auto j = e2e::run(cli({"parse", "--by-job", "--json", logs}), tmp.path());
  ASSERT_EQ(j.exit_status, 0) << j.err;
  json out = json::parse(j.out);
  EXPECT_EQ(out["schema"], "epochwatt-parse-jobs/1");
  EXPECT_TRUE(out["runs"].empty());
  ASSERT_EQ(out["jobs"].size(), 1u);
  const json& job = out["jobs"][0];
  EXPECT_EQ(job["job_id"], "train-1");
  EXPECT_EQ(job["world_size"], 4);
  EXPECT_EQ(job["ranks_found"], 4);
  EXPECT_TRUE(job["missing_ranks"].empty());
  EXPECT_EQ(job["nodes"], json::array({"node-a", "node-b"}));
  EXPECT_EQ(job["devices"].size(), 6u);  // 4 GPUs, 2 CPUs
  EXPECT_EQ(job["duplicates"], 2);       // rank 1's and rank 3's CPU
  // The job's IT energy: each GPU once, each node's CPU once.
  const double expected_j = (100 + 200 + 300 + 400 + 2 * kCpuWatts) * kEpochSeconds * kEpochs;
  EXPECT_NEAR(job["it_joules"].get<double>(), expected_j, 1e-9 * expected_j);
  EXPECT_NEAR(job["it_joules_measured"].get<double>(), expected_j + 2 * kCpuWatts * kEpochSeconds * kEpochs, 1e-6);
  const double kwh = expected_j * Options{}.pue / kJoulesPerKwh;
  EXPECT_NEAR(job["energy_kwh"].get<double>(), kwh, 1e-9 * kwh);
  EXPECT_NEAR(job["co2_g"].get<double>(), kwh * kIntensity, 1e-9 * kwh * kIntensity);
  EXPECT_NEAR(out["aggregate"]["energy_kwh"].get<double>(), kwh, 1e-9 * kwh);
  EXPECT_EQ(out["aggregate"]["runs"], 4);
  // The counted ranks' shares add up to the job, and rank 1 and 3 count their GPU only.
  double shares = 0;
  for (const auto& r : job["ranks"]) {
    shares += r["it_joules_counted"].get<double>();
    if (r["rank"] == 1 || r["rank"] == 3) {
      EXPECT_NEAR(r["it_joules_counted"].get<double>(), 100.0 * (r["rank"].get<int>() + 1) * kEpochSeconds * kEpochs, 1e-6);
    }
  }
  EXPECT_NEAR(shares, expected_j, 1e-6);
  // One warning per CPU measured twice, on stderr and in the job.
  EXPECT_EQ(job["warnings"].size(), 2u);
  EXPECT_EQ(lines_with(j.err, "epochwatt: warning: job train-1: node node-a: cpu:0 (cpu, meter rapl:0, node-wide) was "
                              "measured by ranks 0 and 1; counted once, rank 0's"),
            1u)
      << j.err;
  EXPECT_EQ(lines_with(j.err, "node node-b: cpu:0 (cpu, meter rapl:0, node-wide) was measured by ranks 2 and 3"), 1u) << j.err;
  EXPECT_EQ(e2e::lines(j.err).size(), 2u) << j.err;

  // The sentence and the table, pinned; the same numbers as the JSON.
  auto s = e2e::run(cli({"parse", "--by-job", logs}), tmp.path());
  EXPECT_EQ(s.exit_status, 0) << s.err;
  EXPECT_EQ(s.err, j.err);
  EXPECT_NE(s.out.find(out["aggregate"]["sentence"].get<std::string>() + "\n"), std::string::npos) << s.out;
  golden::expect_matches("parse/by_job_sentence.txt", s.out);
  auto t = e2e::run(cli({"parse", "--by-job", "--table", logs}), tmp.path());
  EXPECT_EQ(t.exit_status, 0) << t.err;
  golden::expect_matches("parse/by_job_table.txt", t.out);

  // Without --by-job, parse sums each rank's whole run, as carbontracker would: more than the job.
  auto plain = e2e::run(cli({"parse", "--json", logs}), tmp.path());
  ASSERT_EQ(plain.exit_status, 0) << plain.err;
  json p = json::parse(plain.out);
  EXPECT_EQ(p["runs"].size(), 4u);
  EXPECT_GT(p["aggregate"]["energy_kwh"].get<double>(), kwh * 1.01);
}

TEST(CliParseByJob, MissingRanksTwoJobsAndARunWithoutJob) {
  TempDir tmp;
  std::string logs = tmp / "logs";
  for (int rank : {0, 2}) run_rank(logs, {"short", rank, 3, rank, 3, "n", 100.0});
  for (int rank : {0, 1}) run_rank(logs, {"other", rank, 2, rank, 2, "m", 50.0});
  // A single process run by the command itself, in the same folder.
  auto single = e2e::run(cli({"--log_dir", logs, "--sim-cpu", "X", "--sim-cpu-tdp", "100", "--", "sleep", "0.2"}), tmp.path());
  ASSERT_EQ(single.exit_status, 0) << single.err;
  // Its JSON summary: the one file not written by this process (the ranks' names start with our pid).
  std::string summary, ours = std::to_string(::getpid()) + ".";
  for (const auto& name : e2e::files_in(logs))
    if (name.ends_with("_epochwatt.json") && name.rfind(ours, 0) != 0) summary = name;
  ASSERT_NE(summary, "");
  double single_kwh = json::parse(e2e::read_file(logs + "/" + summary))["actual"]["energy_kwh"].get<double>();

  auto r = e2e::run(cli({"parse", "--by-job", "--json", logs}), tmp.path());
  ASSERT_EQ(r.exit_status, 0) << r.err;
  json out = json::parse(r.out);
  ASSERT_EQ(out["runs"].size(), 1u);  // the single process, summed as parse sums it
  EXPECT_EQ(out["runs"][0]["summed"], "actual");
  ASSERT_EQ(out["jobs"].size(), 2u);
  EXPECT_EQ(out["jobs"][0]["job_id"], "other");
  EXPECT_EQ(out["jobs"][1]["job_id"], "short");
  EXPECT_EQ(out["jobs"][1]["missing_ranks"], json::array({1}));
  EXPECT_EQ(out["jobs"][0]["missing_ranks"], json::array());
  EXPECT_EQ(lines_with(r.err, "epochwatt: warning: job short: rank 1 of 3 left no log files here; the job's total lacks their energy"), 1u)
      << r.err;
  double jobs_kwh = out["jobs"][0]["energy_kwh"].get<double>() + out["jobs"][1]["energy_kwh"].get<double>();
  EXPECT_NEAR(out["aggregate"]["energy_kwh"].get<double>(), jobs_kwh + single_kwh, 1e-9);
  EXPECT_EQ(out["aggregate"]["runs"], 5);
  EXPECT_EQ(out["aggregate"]["jobs"], 2);

  auto t = e2e::run(cli({"parse", "--by-job", "--table", logs}), tmp.path());
  EXPECT_EQ(t.exit_status, 0);
  auto rows = e2e::lines(t.out);
  ASSERT_EQ(rows.size(), 5u) << t.out;  // header, the run, two jobs, total
  EXPECT_EQ(rows[1].rfind("run ", 0), 0u) << t.out;
  EXPECT_EQ(rows[2].rfind("job other ", 0), 0u) << t.out;
  EXPECT_EQ(rows[3].rfind("job short ", 0), 0u) << t.out;
  EXPECT_NE(rows[3].find(" 2/3 "), std::string::npos) << t.out;
}

TEST(CliParseByJob, EmptyFolderExitsOne) {
  TempDir tmp;
  auto r = e2e::run(cli({"parse", "--by-job", tmp.path()}), tmp.path());
  EXPECT_EQ(r.exit_status, 1);
  EXPECT_NE(r.err.find("no carbontracker log pair"), std::string::npos) << r.err;
}

}  // namespace
