// What a run's total covers, end to end through the real binary and the fake NVML library:
// - discovery notes that change the coverage (a GPU that cannot be measured, an ignored
//   CUDA_VISIBLE_DEVICES entry, a MIG instance measured as its parent) reach the console, the err
//   log, the JSON summary's warnings and the HTML report (issue 12, case11);
// - a meter that covers other components (a Grace Hopper module counter) is the only meter of them:
//   no CPU or DRAM figure beside it, and every output says what covers what (case15);
// - an estimate is named as one beside its figure (console, output log, JSON).
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "e2e/cli_harness.hpp"

namespace {

struct CoverageRun {
  e2e::Outcome outcome;
  std::string err_log, std_log, output_log, html;
  nlohmann::json summary;
};

// Runs `epochwatt` on the fake NVML library with `scenario`, extra arguments, and `env` (NAME=VALUE).
CoverageRun run_with(const e2e::TempDir& tmp, const std::string& scenario, const std::vector<std::string>& extra,
                     const std::vector<std::string>& env = {}) {
  e2e::write_file(tmp / "scenario.txt", scenario);
  std::vector<std::string> args = {"env", "-u", "CUDA_VISIBLE_DEVICES", "-u", "SLURM_STEP_GPUS", "-u", "SLURM_JOB_GPUS",
                                   "FAKE_NVML_SCENARIO=" + (tmp / "scenario.txt")};
  for (const auto& e : env) args.push_back(e);
  for (const char* a : {EPOCHWATT_CLI, "--nvml-library", FAKE_NVML_LIBRARY, "--offline", "--intensity", "100",
                        "--log-dir"})
    args.push_back(a);
  args.push_back(tmp / "logs");
  args.insert(args.end(), extra.begin(), extra.end());
  for (const char* a : {"--", "sleep", "1"}) args.push_back(a);
  CoverageRun r;
  r.outcome = e2e::run(args, tmp.path());
  r.outcome.out += r.outcome.err;  // the console: the err channel may go to stderr
  std::string logs = tmp / "logs";
  auto read = [&](const std::string& suffix) {
    std::string path = e2e::file_ending_with(logs, suffix);  // the whole path, or "" when not exactly one
    return path.empty() ? std::string() : e2e::read_file(path);
  };
  r.err_log = read("_carbontracker_err.log");
  r.std_log = read("_carbontracker.log");
  r.output_log = read("_carbontracker_output.log");
  std::string json = read("_epochwatt.json");
  if (!json.empty()) r.summary = nlohmann::json::parse(json);
  {
    e2e::Outcome rep = e2e::run(e2e::cli({"report", logs, "--html", tmp / "report.html"}), tmp.path());
    EXPECT_EQ(rep.exit_status, 0) << rep.err;
    r.html = e2e::read_file(tmp / "report.html");
  }
  return r;
}

bool any_warning_contains(const nlohmann::json& summary, const std::string& text) {
  if (!summary.contains("warnings")) return false;
  for (const auto& w : summary["warnings"])
    if (w.get<std::string>().find(text) != std::string::npos) return true;
  return false;
}

// case11: GPU 0 can be read by power only, GPU 1 by nothing. The run measures GPU 0 and says, on
// every surface, that GPU 1 is left out of the total.
TEST(CliCoverage, AnUnmeasurableGpuIsNamedOnEverySurface) {
  e2e::TempDir tmp;
  CoverageRun r = run_with(tmp,
                           "[gpu]\nname = NVIDIA GeForce GTX TITAN X\nenergy = no\nwatts = 150\n"
                           "[gpu]\nname = NVIDIA GeForce 940MX\nenergy = no\npower = no\n",
                           {"--components", "gpu"});
  ASSERT_EQ(r.outcome.exit_status, 0) << r.outcome.err;
  const std::string expected = "nvml: GPU 1 (NVIDIA GeForce 940MX) cannot be measured";
  EXPECT_NE(r.outcome.out.find("WARNING - " + expected), std::string::npos) << r.outcome.out;
  EXPECT_NE(r.err_log.find("WARNING - " + expected), std::string::npos) << r.err_log;
  EXPECT_TRUE(any_warning_contains(r.summary, expected)) << r.summary["warnings"];
  EXPECT_NE(r.html.find("<section id=\"warnings\">"), std::string::npos);
  EXPECT_NE(r.html.find(expected), std::string::npos);
  // GPU 0 is still measured, and named as measured.
  EXPECT_NE(r.outcome.out.find("GPU with device(s) NVIDIA GeForce GTX TITAN X (measured: power readings integrated)."),
            std::string::npos)
      << r.outcome.out;
}

// An ignored CUDA_VISIBLE_DEVICES entry (and every one after it, as CUDA does) and a MIG instance
// measured as its whole parent change what the total covers: both are warnings of the run.
TEST(CliCoverage, IgnoredSelectionEntriesAndMigParentsAreWarnings) {
  e2e::TempDir tmp;
  const std::string two = "[gpu]\nname = NVIDIA H100 80GB HBM3\nuuid = GPU-aaaa\nwatts = 200\n"
                          "[gpu]\nname = NVIDIA H100 80GB HBM3\nuuid = GPU-bbbb\nwatts = 200\n";
  CoverageRun bad = run_with(tmp, two, {"--components", "gpu", "--quiet"}, {"CUDA_VISIBLE_DEVICES=0,foo,1"});
  ASSERT_EQ(bad.outcome.exit_status, 0) << bad.outcome.err;
  EXPECT_TRUE(any_warning_contains(bad.summary, "nvml: CUDA_VISIBLE_DEVICES entry 'foo' is not a valid device"))
      << bad.summary["warnings"];
  EXPECT_NE(bad.err_log.find("every entry after it"), std::string::npos) << bad.err_log;
}

// case15: on a Grace Hopper module the NVML counter covers CPU and memory. No CPU or DRAM meter is
// added beside it, and the console, the standard log, the JSON summary and the report say so.
TEST(CliCoverage, AGraceHopperModuleCounterIsTheOnlyMeterOfItsCpuAndMemory) {
  e2e::TempDir tmp;
  std::string proc = std::string(EPOCHWATT_TEST_DATA_DIR) + "/proc_grace";
  CoverageRun r = run_with(tmp, "[gpu]\nname = NVIDIA GH200 480GB\nwatts = 300\n", {"--proc-root", proc});
  ASSERT_EQ(r.outcome.exit_status, 0) << r.outcome.err;
  EXPECT_EQ(r.std_log.find("Average power usage (W) for cpu"), std::string::npos) << r.std_log;
  EXPECT_NE(r.std_log.find("Average power usage (W) for gpu"), std::string::npos) << r.std_log;
  EXPECT_NE(r.std_log.find("Coverage: NVIDIA GH200 480GB (nvml:0) covers cpu and dram as well as its gpu"),
            std::string::npos)
      << r.std_log;
  EXPECT_NE(r.outcome.out.find("covers cpu and dram as well"), std::string::npos) << r.outcome.out;
  EXPECT_NE(r.outcome.out.find("counted twice"), std::string::npos) << r.outcome.out;
  ASSERT_EQ(r.summary["context"]["devices"].size(), 1u) << r.summary["context"];
  const auto& meter = r.summary["context"]["devices"][0];
  EXPECT_EQ(meter["also_covers"], nlohmann::json::parse(R"(["cpu", "dram"])"));
  EXPECT_NE(meter["coverage"].get<std::string>().find("docs.nvidia.com"), std::string::npos);
  EXPECT_NE(r.html.find("covers cpu and dram as well"), std::string::npos);
}

// Without a GPU the CPU is estimated: the console says so beside the device, the output log on its
// own line (its components line stays carbontracker's), the JSON in each meter and in energy_basis.
TEST(CliCoverage, AnEstimateIsNamedBesideItsFigure) {
  e2e::TempDir tmp;
  std::string proc = std::string(EPOCHWATT_TEST_DATA_DIR) + "/proc_grace";
  CoverageRun r = run_with(tmp, "", {"--components", "cpu", "--proc-root", proc, "--powercap-root", tmp / "none"});
  ASSERT_EQ(r.outcome.exit_status, 0) << r.outcome.err;
  EXPECT_NE(r.outcome.out.find("(estimate: TDP x utilisation)"), std::string::npos) << r.outcome.out;
  EXPECT_NE(r.outcome.out.find("Of this energy, all was estimated, not measured (CPU: TDP x utilisation; DRAM: "
                               "installed memory x W/GB)."),
            std::string::npos)
      << r.outcome.out;
  EXPECT_EQ(r.output_log.find("(estimate: TDP x utilisation)."), std::string::npos) << "the components line is exact";
  EXPECT_NE(r.output_log.find("Methods: "), std::string::npos) << r.output_log;
  for (const auto& m : r.summary["context"]["devices"]) EXPECT_EQ(m["basis"], "estimated") << m;
  EXPECT_GT(r.summary["energy_basis"]["estimated_joules"].get<double>(), 0.0);
  EXPECT_EQ(r.summary["energy_basis"]["measured_joules"].get<double>(), 0.0);
  EXPECT_NE(r.html.find("is estimated to use"), std::string::npos);
  EXPECT_NE(r.html.find("Estimated by epochwatt"), std::string::npos);
  EXPECT_EQ(r.html.find("Measured by"), std::string::npos);
}

}  // namespace
