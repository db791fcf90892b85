// Issue 14, item 3: the job line of a multi-process job's logs (written, read back, still read by
// the original's parser), the rank in a rank's file names, and the grouping of ranks into jobs
// (report/job_files.hpp): each device once per node, missing ranks, two jobs, steps.
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>

#include "report/job_line.hpp"
#include "report/job_files.hpp"
#include "report/log_parse.hpp"
#include "unit/support.hpp"

namespace {

using namespace epochwatt;
using detail::JobFilesReport;
using detail::ParsedRun;

JobIdentity sample_identity() {
  JobIdentity j;
  j.job_id = "4242";
  j.step_id = "1";
  j.rank = 3;
  j.local_rank = 1;
  j.world_size = 4;
  j.local_world_size = 2;
  j.node = "node \"b\"";  // a quote survives the JSON
  j.node_rank = 1;
  j.launcher = "slurm";
  return j;
}

TEST(JobLine, RoundTrip) {
  JobIdentity j = sample_identity();
  std::string line = detail::job_line(j);
  EXPECT_EQ(line.rfind(detail::kJobLinePrefix, 0), 0u);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  std::string why;
  auto back = detail::parse_job_line(line, &why);
  ASSERT_TRUE(back) << why;
  EXPECT_EQ(back->job_id, j.job_id);
  EXPECT_EQ(back->step_id, j.step_id);
  EXPECT_EQ(back->rank, j.rank);
  EXPECT_EQ(back->local_rank, j.local_rank);
  EXPECT_EQ(back->world_size, j.world_size);
  EXPECT_EQ(back->local_world_size, j.local_world_size);
  EXPECT_EQ(back->node, j.node);
  EXPECT_EQ(back->node_rank, j.node_rank);
  EXPECT_EQ(back->launcher, j.launcher);
}

TEST(JobLine, BadLinesAreRefusedWithAReason) {
  std::string why;
  EXPECT_FALSE(detail::parse_job_line("Job identity: {not json", &why));
  EXPECT_FALSE(why.empty());
  why.clear();
  EXPECT_FALSE(detail::parse_job_line(R"(Job identity: {"rank":4,"world_size":4})", &why));
  EXPECT_NE(why.find("rank 4"), std::string::npos) << why;
  EXPECT_FALSE(detail::parse_job_line(R"(Job identity: {"rank":"1","world_size":4})", &why));
  EXPECT_NE(why.find("rank"), std::string::npos) << why;
  EXPECT_FALSE(detail::parse_job_line(R"(Job identity: {"world_size":0})", &why));
  // Fields a newer writer may add, or an older one may lack, are no reason to refuse the line.
  auto j = detail::parse_job_line(R"(Job identity: {"job_id":"x","rank":1,"world_size":2,"gpus_per_node":8})");
  ASSERT_TRUE(j);
  EXPECT_EQ(j->job_id, "x");
  EXPECT_EQ(j->node, "");
}

TEST(JobLine, RankTagOnlyForRanksOtherThanZeroOfAMultiProcessJob) {
  JobIdentity j = sample_identity();
  EXPECT_EQ(detail::rank_file_tag(j), "rank3");
  j.rank = 0;
  EXPECT_EQ(detail::rank_file_tag(j), "");
  EXPECT_EQ(detail::rank_file_tag(JobIdentity{}), "");
}

// One meter of a rank: id, component, device name, constant watts.
struct MeterSpec {
  std::string id;
  Component component;
  std::string device;
  double watts;
};

struct RankSpec {
  std::string job, step, node;
  int rank = 0, world = 1, local_rank = 0, local_world = 1;
  std::vector<MeterSpec> meters;
};

// A real tracker run as that rank, into `dir`: `epochs` epochs of `seconds` on a ManualClock.
// Returns its standard log's path.
std::string run_rank(const std::string& dir, const RankSpec& s, int epochs = 2, double seconds = 10.0) {
  ewtest::ScopedEnv tz("TZ", "UTC");
  ewtest::ScopedEnv country("EPOCHWATT_COUNTRY", std::nullopt);
  ewtest::ScopedEnv node("EPOCHWATT_NODE", std::nullopt);
  std::ostringstream console;
  auto clock = std::make_shared<ManualClock>();
  Options o = ewtest::deterministic_options(clock, &console, epochs);
  for (const auto& m : s.meters) o.meters.push_back(std::make_shared<ewtest::ScriptedMeter>(m.id, m.component, m.device, m.watts));
  o.log_dir = dir;
  o.job_id = s.job;
  o.step_id = s.step;
  o.node = s.node;
  o.rank = s.rank;
  o.world_size = s.world;
  o.local_rank = s.local_rank;
  o.local_world_size = s.local_world;
  Tracker t(o);
  for (int e = 0; e < epochs; ++e) ewtest::run_epoch(t, *clock, seconds);
  t.stop();
  return t.standard_log_path();
}

std::vector<ParsedRun> read_all(const std::string& dir) {
  std::vector<detail::ParseWarning> warnings;
  auto runs = detail::parse_log_dirs({dir}, &warnings);
  for (const auto& w : warnings) ADD_FAILURE() << w.file << ": " << w.message;
  return runs;
}

std::vector<JobFilesReport> group(const std::vector<ParsedRun>& runs) {
  detail::JobGrouper g;
  for (const auto& r : runs) EXPECT_TRUE(g.add(r)) << r.id << " has no job line";
  return g.finish();
}

std::size_t warnings_with(const JobFilesReport& j, const std::string& text) {
  std::size_t n = 0;
  for (const auto& w : j.warnings) n += w.find(text) != std::string::npos;
  return n;
}

TEST(JobFiles, ARankOtherThanZeroNamesItsFilesAndLogsItsIdentity) {
  ewtest::TempDir dir;
  std::string std1 = run_rank(dir.str(), {"j1", "", "n0", 1, 2, 1, 2, {{"test:gpu1", Component::gpu, "G", 100}}});
  std::string std0 = run_rank(dir.str(), {"j1", "", "n0", 0, 2, 0, 2, {{"test:gpu0", Component::gpu, "G", 100}}});
  EXPECT_NE(std::filesystem::path(std1).filename().string().find("_rank1_carbontracker.log"), std::string::npos) << std1;
  EXPECT_EQ(std::filesystem::path(std0).filename().string().find("rank"), std::string::npos) << std0;
  std::string text = ewtest::read_file(std1);
  EXPECT_EQ(ewtest::count_occurrences(text, " - Job identity: {"), 1u) << text;
  for (const auto& r : read_all(dir.str())) {
    ASSERT_TRUE(r.job) << r.id;
    EXPECT_EQ(r.job->job_id, "j1");
    EXPECT_EQ(r.job->world_size, 2);
    EXPECT_EQ(r.job->node, "n0");
    EXPECT_EQ(r.id.find("rank1") != std::string::npos, r.job->rank == 1) << r.id;
    EXPECT_TRUE(r.notes.empty());
  }
}

TEST(JobFiles, ASingleProcessWritesNoJobLine) {
  ewtest::TempDir dir;
  std::string path = run_rank(dir.str(), {"", "", "", 0, 1, 0, 1, {{"test:gpu0", Component::gpu, "G", 100}}});
  EXPECT_EQ(ewtest::read_file(path).find("Job identity"), std::string::npos);
  EXPECT_EQ(std::filesystem::path(path).filename().string().find("rank"), std::string::npos);
  auto runs = read_all(dir.str());
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_FALSE(runs[0].job);
  detail::JobGrouper g;
  EXPECT_FALSE(g.add(runs[0]));
  EXPECT_TRUE(g.finish().empty());
}

// The original's parser (tests/compat/ct_parser.py) reads a rank's logs: the extra line and the
// tagged names change nothing for it.
TEST(JobFiles, TheOriginalParserStillReadsTheRanksLogs) {
  ewtest::TempDir dir;
  for (int rank : {0, 1})
    run_rank(dir.str(), {"j1", "", "n0", rank, 2, rank, 2, {{"test:gpu" + std::to_string(rank), Component::gpu, "G", 100},
                                                             {"test:cpu", Component::cpu, "cpu:0", 40}}});
  auto res = ewtest::run_command(ewtest::shell_quote(EPOCHWATT_PYTHON) + " " + ewtest::shell_quote(EPOCHWATT_CT_PARSER) +
                                 " json " + ewtest::shell_quote(dir.str()));
  ASSERT_EQ(res.status, 0) << res.out;
  auto parsed = nlohmann::json::parse(res.out);
  ASSERT_EQ(parsed["logs"].size(), 2u) << res.out;
  for (const auto& log : parsed["logs"]) {
    // Each pair's own run: 140 W over two epochs of 10 s.
    const auto& gpu = log["components"]["gpu"];
    ASSERT_EQ(gpu["avg_power_usages (W)"].size(), 2u) << log.dump();
    EXPECT_DOUBLE_EQ(gpu["avg_power_usages (W)"][0][0].get<double>(), 100.0);
    EXPECT_DOUBLE_EQ(log["components"]["cpu"]["avg_power_usages (W)"][1][0].get<double>(), 40.0);
    EXPECT_TRUE(log["actual"].is_object());
  }
}

// 4 ranks on 2 nodes, one GPU each, and every rank measuring its node's CPU (no election): each
// GPU counts once, each node's CPU once, and the three CPUs too many are warned about.
TEST(JobFilesReport, EachDeviceOncePerNode) {
  ewtest::TempDir dir;
  const double gpu_w = 300, cpu_w = 50, dram_w = 5, seconds = 10;
  const int epochs = 2;
  for (int rank = 0; rank < 4; ++rank) {
    int local = rank % 2;
    std::string node = rank < 2 ? "a" : "b";
    run_rank(dir.str(),
             {"job7", "", node, rank, 4, local, 2,
              {{"nvml:" + std::to_string(local), Component::gpu, "GPU", gpu_w},
               {"rapl:0", Component::cpu, "cpu:0", cpu_w},
               {"rapl:0:0", Component::dram, "dram:0", dram_w}}},
             epochs, seconds);
  }
  auto jobs = group(read_all(dir.str()));
  ASSERT_EQ(jobs.size(), 1u);
  const JobFilesReport& j = jobs[0];
  EXPECT_EQ(j.job_id, "job7");
  EXPECT_EQ(j.world_size, 4);
  EXPECT_TRUE(j.missing_ranks.empty());
  EXPECT_EQ(j.nodes, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(j.devices.size(), 8u);  // 4 GPUs, 2 CPUs, 2 DRAMs
  EXPECT_EQ(j.duplicates, 4u);      // rank 1's and rank 3's CPU and DRAM
  const double expected_j = (4 * gpu_w + 2 * cpu_w + 2 * dram_w) * seconds * epochs;
  const double measured_j = 4 * (gpu_w + cpu_w + dram_w) * seconds * epochs;
  EXPECT_NEAR(j.it_joules, expected_j, 1e-9 * expected_j);
  EXPECT_NEAR(j.it_joules_measured, measured_j, 1e-9 * measured_j);
  const double pue = Options{}.pue;
  EXPECT_NEAR(j.energy_kwh, expected_j * pue / kJoulesPerKwh, 1e-9 * j.energy_kwh);
  auto runs = read_all(dir.str());
  ASSERT_TRUE(runs[0].average_intensity);
  EXPECT_NEAR(j.co2_g, j.energy_kwh * *runs[0].average_intensity, 1e-9 * j.co2_g);
  EXPECT_NEAR(j.km, j.co2_g / kCarGramsPerKm, 1e-9 * j.km);
  // One warning per device measured twice, naming the node, the ranks and the node-wide mark.
  EXPECT_EQ(warnings_with(j, "was measured by ranks"), 4u);
  EXPECT_EQ(warnings_with(j, "node a: cpu:0 (cpu, meter rapl:0, node-wide) was measured by ranks 0 and 1; counted once, rank 0's"), 1u);
  EXPECT_EQ(warnings_with(j, "node b: dram:0 (dram, meter rapl:0:0, node-wide) was measured by ranks 2 and 3"), 1u);
  for (const auto& d : j.devices) EXPECT_EQ(d.device.node_wide, d.device.component != "gpu");
  EXPECT_EQ(j.warnings.size(), 4u);
}

TEST(JobFilesReport, MissingRanksAreNamed) {
  ewtest::TempDir dir;
  for (int rank : {0, 2}) run_rank(dir.str(), {"j", "", "n", rank, 4, rank, 4, {{"nvml:" + std::to_string(rank), Component::gpu, "G", 100}}});
  auto jobs = group(read_all(dir.str()));
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].missing_ranks, (std::vector<int>{1, 3}));
  EXPECT_EQ(warnings_with(jobs[0], "job j: ranks 1 and 3 of 4 left no log files here"), 1u);
  EXPECT_EQ(jobs[0].duplicates, 0u);
}

TEST(JobFilesReport, TwoJobsInOneFolderAndTwoStepsOfOneJob) {
  ewtest::TempDir dir;
  for (const char* job : {"first", "second"})
    for (int rank : {0, 1}) run_rank(dir.str(), {job, "", "n", rank, 2, rank, 2, {{"nvml:" + std::to_string(rank), Component::gpu, "G", 100}}});
  for (const char* step : {"0", "1"})
    for (int rank : {0, 1}) run_rank(dir.str(), {"third", step, "n", rank, 2, rank, 2, {{"nvml:" + std::to_string(rank), Component::gpu, "G", 200}}});
  auto jobs = group(read_all(dir.str()));
  ASSERT_EQ(jobs.size(), 4u);
  std::vector<std::string> labels;
  for (const auto& j : jobs) {
    labels.push_back(j.label());
    EXPECT_EQ(j.runs.size(), 2u);
    EXPECT_EQ(j.devices.size(), 2u);
    EXPECT_EQ(j.duplicates, 0u) << j.label();  // the same meter in two jobs is no duplicate
    EXPECT_TRUE(j.warnings.empty()) << j.warnings.front();
  }
  EXPECT_EQ(labels, (std::vector<std::string>{"job first", "job second", "job third step 0", "job third step 1"}));
  EXPECT_NEAR(jobs[2].it_joules, 2 * 200 * 2 * 10.0, 1e-6);
}

// A meter of the process itself (the CPU estimate of the tracked process tree) is the rank's own:
// two ranks' on one node are both counted.
TEST(JobFilesReport, PerProcessMetersAreNeverDuplicates) {
  ewtest::TempDir dir;
  for (int rank : {0, 1})
    run_rank(dir.str(), {"j", "", "n", rank, 2, rank, 2, {{"estimate:cpu-tree", Component::cpu, "Xeon", 20}}});
  auto jobs = group(read_all(dir.str()));
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].devices.size(), 2u);
  EXPECT_EQ(jobs[0].duplicates, 0u);
  EXPECT_FALSE(jobs[0].devices[0].device.node_wide);
}

// Rewrites a rank's standard log line by line: `edit` returns the lines that replace one (none
// drops it). Logs as a rank writes them, then made to look as an older writer's or a damaged one's.
void edit_log(const std::string& path, const std::function<std::vector<std::string>(const std::string&)>& edit) {
  std::string out;
  for (const auto& line : ewtest::split_lines(ewtest::read_file(path)))
    for (const auto& l : edit(line)) out += l + "\n";
  ewtest::write_file(path, out);
}

// After the last `Measuring` line: the shared-meters line a rank of the node election writes, with
// the same log prefix (time, level) as the line before it.
std::vector<std::string> with_shared_line(const std::string& line, const std::string& last_measuring,
                                          const std::string& ids_json) {
  if (line != last_measuring) return {line};
  return {line, line.substr(0, line.find("Measuring ")) + "Job shared meters: " + ids_json};
}

std::string last_line_with(const std::string& path, const std::string& needle) {
  std::string found;
  for (const auto& line : ewtest::split_lines(ewtest::read_file(path)))
    if (line.find(needle) != std::string::npos) found = line;
  return found;
}

// Two node-wide meters of the "cpu" figure (RAPL package and DRAM), 10 s epochs, 2 of them.
constexpr double kPkgW = 40, kDramW = 8, kSeconds = 10;
constexpr int kEpochs = 2;
RankSpec cpu_rank(int rank) {
  return {"j", "", "n", rank, 2, rank, 2,
          {{"rapl:0", Component::cpu, "cpu:0", kPkgW}, {"rapl:0:0", Component::dram, "dram:0", kDramW}}};
}

// Review of issue 14, fault 9: ranks whose log gives only the component's total for the cpu (no
// per-device line: an older writer, an unreadable line) still have their shared meters recognised.
// The node election shares rapl:0 and rapl:0:0 between the two ranks (one holder at a time), so
// their figures add up: nothing is a duplicate, nothing is left out.
TEST(JobFilesReport, AComponentTotalOfSharedMetersAddsUpAcrossRanks) {
  ewtest::TempDir dir;
  for (int rank : {0, 1}) {
    std::string log = run_rank(dir.str(), cpu_rank(rank), kEpochs, kSeconds);
    std::string last = last_line_with(log, "Measuring ");
    ASSERT_FALSE(last.empty());
    edit_log(log, [&](const std::string& line) -> std::vector<std::string> {
      if (line.find("Power by device (W) for cpu") != std::string::npos) return {};
      return with_shared_line(line, last, R"({"rapl:0":"node","rapl:0:0":"node"})");
    });
  }
  auto runs = read_all(dir.str());
  ASSERT_EQ(runs.size(), 2u);
  for (const auto& r : runs) ASSERT_EQ(r.shared_meters.size(), 2u) << r.id;
  auto jobs = group(runs);
  ASSERT_EQ(jobs.size(), 1u);
  const JobFilesReport& j = jobs[0];
  const double both = 2 * (kPkgW + kDramW) * kSeconds * kEpochs;
  EXPECT_NEAR(j.it_joules, both, 1e-9 * both);
  EXPECT_EQ(j.duplicates, 0u);
  EXPECT_EQ(warnings_with(j, "was measured by ranks"), 0u);
  ASSERT_EQ(j.devices.size(), 1u);
  EXPECT_EQ(j.devices[0].device.meter, "rapl:0+rapl:0:0");
  EXPECT_TRUE(j.devices[0].device.shared);
  EXPECT_EQ(j.devices[0].shared_with, std::vector<int>{1});
  EXPECT_TRUE(j.warnings.empty()) << j.warnings.front();
}

// The same meters measured by each rank on its own (no election), rank 0 logging them one by one
// and rank 1 only as the cpu total: rank 1's total covers meters counted already, so it is a
// duplicate (counted once, rank 0's) and said, instead of being counted a second time.
TEST(JobFilesReport, AComponentTotalOverMetersCountedOneByOneIsADuplicate) {
  ewtest::TempDir dir;
  run_rank(dir.str(), cpu_rank(0), kEpochs, kSeconds);
  std::string log1 = run_rank(dir.str(), cpu_rank(1), kEpochs, kSeconds);
  edit_log(log1, [](const std::string& line) -> std::vector<std::string> {
    if (line.find("Power by device (W) for cpu") != std::string::npos) return {};
    return {line};
  });
  auto jobs = group(read_all(dir.str()));
  ASSERT_EQ(jobs.size(), 1u);
  const JobFilesReport& j = jobs[0];
  const double once = (kPkgW + kDramW) * kSeconds * kEpochs;
  EXPECT_NEAR(j.it_joules, once, 1e-9 * once);
  EXPECT_NEAR(j.it_joules_measured, 2 * once, 1e-9 * once);
  EXPECT_EQ(j.duplicates, 1u);
  EXPECT_EQ(warnings_with(j, "node n: rank 1 (" + j.runs[1].id +
                                 ")'s cpu figure (meters rapl:0+rapl:0:0) covers meters counted already from rank 0 "
                                 "(rapl:0, rapl:0:0); counted once, theirs"),
            1u);
  EXPECT_EQ(j.warnings.size(), 1u);
}

// A per-device line that does not match the meter list (an entry more than the rank's meters): the
// devices it names that one meter alone has are still those meters (rank 1's cpu:0 and dram:0 are
// rapl:0 and rapl:0:0, duplicates of rank 0's), and the entry no meter has is counted on its own
// with a warning that says so.
TEST(JobFilesReport, APerDeviceLineThatDisagreesWithTheMetersIsMatchedByName) {
  ewtest::TempDir dir;
  run_rank(dir.str(), cpu_rank(0), kEpochs, kSeconds);
  std::string log1 = run_rank(dir.str(), cpu_rank(1), kEpochs, kSeconds);
  const double ghost_w = 3;
  edit_log(log1, [&](const std::string& line) -> std::vector<std::string> {
    if (line.find("Power by device (W) for cpu") != std::string::npos) return {line + "; ghost=3"};
    return {line};
  });
  auto runs = read_all(dir.str());
  auto jobs = group(runs);
  ASSERT_EQ(jobs.size(), 1u);
  const JobFilesReport& j = jobs[0];
  const double once = (kPkgW + kDramW) * kSeconds * kEpochs, ghost = ghost_w * kSeconds * kEpochs;
  EXPECT_NEAR(j.it_joules, once + ghost, 1e-9 * once);
  EXPECT_EQ(j.duplicates, 2u);
  EXPECT_EQ(warnings_with(j, "cpu:0 (cpu, meter rapl:0, node-wide) was measured by ranks 0 and 1; counted once"), 1u);
  EXPECT_EQ(warnings_with(j, "dram:0 (dram, meter rapl:0:0, node-wide) was measured by ranks 0 and 1"), 1u);
  EXPECT_EQ(warnings_with(j, "its cpu figure for ghost is none of its meters alone (its per-device powers and its Measuring lines disagree)"), 1u);
  EXPECT_EQ(j.warnings.size(), 3u);
}

}  // namespace

// The node election's meters: a rank writes which of its meters it shared with the job's other
// processes, and --by-job adds their figures up (one claim holder at a time) instead of counting
// the first rank's alone, as it does for a device that two ranks measured each on their own.
TEST(JobSharedMeters, LineRoundTripAndNoLineWithoutSharedMeters) {
  MeterInfo rapl;
  rapl.id = "rapl:0";
  rapl.shared = "node";
  MeterInfo gpu;
  gpu.id = "nvml:1";
  gpu.shared = "device";
  MeterInfo own;
  own.id = "estimate:cpu-tree";
  std::string line = detail::shared_meters_line({rapl, gpu, own});
  EXPECT_EQ(line, R"(Job shared meters: {"rapl:0":"node","nvml:1":"device"})");
  auto ids = detail::parse_shared_meters_line(line);
  ASSERT_TRUE(ids);
  EXPECT_EQ(*ids, (std::vector<std::string>{"rapl:0", "nvml:1"}));
  EXPECT_EQ(detail::shared_meters_line({own}), "");
  std::string why;
  EXPECT_FALSE(detail::parse_shared_meters_line("Job shared meters: [1,2]", &why));
  EXPECT_FALSE(why.empty());
}

TEST(JobSharedMeters, ElectedMetersAddUpAcrossRanksWhileUnsharedDuplicatesCountOnce) {
  auto rank = [](int r, double joules, bool shared) {
    detail::RankRun run;
    run.id = "run" + std::to_string(r);
    run.job.job_id = "j";
    run.job.rank = r;
    run.job.world_size = 2;
    run.job.node = "n0";
    run.epochs = 1;
    run.duration_s = 10.0;
    run.intensity = 100.0;
    detail::RankDevice d;
    d.meter = "rapl:0";
    d.device = "cpu:0";
    d.component = "cpu";
    d.node_wide = true;
    d.shared = shared;
    d.joules = joules;
    run.devices.push_back(d);
    return run;
  };
  // Rank 1 led the node for a while, then died; rank 0 took the claim over.
  auto elected = detail::report_job_files("j", "", {rank(0, 300.0, true), rank(1, 700.0, true)});
  EXPECT_DOUBLE_EQ(elected.it_joules, 1000.0);
  EXPECT_EQ(elected.duplicates, 0u);
  EXPECT_EQ(warnings_with(elected, "was measured by ranks"), 0u);
  ASSERT_EQ(elected.devices.size(), 1u);
  EXPECT_EQ(elected.devices[0].shared_with, std::vector<int>{1});
  // The same meter measured by each rank on its own (--independent): counted once, and said.
  auto independent = detail::report_job_files("j", "", {rank(0, 1000.0, false), rank(1, 1000.0, false)});
  EXPECT_DOUBLE_EQ(independent.it_joules, 1000.0);
  EXPECT_EQ(independent.duplicates, 1u);
  EXPECT_EQ(warnings_with(independent, "was measured by ranks 0 and 1"), 1u);
}
