// Signals at every stage (issue 12, item 12): epochwatt blocks its relayed signals for the
// signalfd before set-up, so a set-up that blocked (a FIFO where /proc/stat should be, NVML's first
// call on a wedged driver) used to leave SIGTERM pending for ever. Now set-up reads never block,
// and a stop signal during set-up ends epochwatt at once with 128 + N, the command not started.
#include <signal.h>
#include <sys/stat.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "e2e/cli_harness.hpp"

namespace {

using e2e::TempDir;

void write(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path) << text;
}

// NVML's probe at discovery sleeps two minutes: a set-up that hangs, as on a wedged driver.
std::vector<std::string> stuck_in_nvml(const TempDir& tmp) {
  write(tmp / "scenario.txt", "[gpu]\nname = Wedged\ndelay_us = 120000000\n");
  return {"env", "FAKE_NVML_SCENARIO=" + (tmp / "scenario.txt"), EPOCHWATT_CLI, "--nvml-library", FAKE_NVML_LIBRARY,
          "--components", "gpu", "--log-dir", tmp / "logs", "--", "sh", "-c", "echo started"};
}

// True once the process has the fake NVML library mapped: it is inside set-up's discovery.
bool in_nvml(pid_t pid) {
  std::ifstream maps("/proc/" + std::to_string(pid) + "/maps");
  std::string text((std::istreambuf_iterator<char>(maps)), std::istreambuf_iterator<char>());
  return text.find("fake_nvml") != std::string::npos;
}

void expect_stopped_in_setup(int signo, const std::string& name) {
  TempDir tmp;
  e2e::Process p(stuck_in_nvml(tmp), tmp.path());
  ASSERT_TRUE(e2e::eventually([&] { return in_nvml(p.pid()); })) << "set-up never reached NVML";
  ASSERT_EQ(::kill(p.pid(), signo), 0);
  // The bound only keeps a regression from hanging the suite; set-up alone would take 120 s.
  auto r = p.wait(std::chrono::seconds(60));
  ASSERT_FALSE(r.timed_out) << name << " stayed pending during set-up; stderr: " << r.err;
  EXPECT_EQ(r.exit_status, 128 + signo) << r.err;
  EXPECT_EQ(r.out, "") << "the command must not start";
  EXPECT_EQ(e2e::count(r.err, "epochwatt: " + name + " during set-up: stopped before 'sh' started; nothing was measured\n"),
            1u)
      << r.err;
}

TEST(CliSetupSignals, SigtermEndsASetUpThatHangs) { expect_stopped_in_setup(SIGTERM, "SIGTERM"); }

TEST(CliSetupSignals, SigintEndsASetUpThatHangs) { expect_stopped_in_setup(SIGINT, "SIGINT"); }

// A machine without RAPL, GPU or hwmon, whose /proc/stat is a FIFO with no writer: the CPU
// estimate's reads must neither block set-up nor the sampler.
struct FifoProc {
  TempDir dir;
  FifoProc() {
    write(dir / "proc/cpuinfo", "processor\t: 0\nmodel name\t: Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz\n");
    write(dir / "proc/meminfo", "MemTotal:       8388608 kB\n");
    EXPECT_EQ(::mkfifo((dir / "proc/stat").c_str(), 0600), 0);
    std::filesystem::create_directories(dir / "powercap");
    std::filesystem::create_directories(dir / "drm");
  }
  std::vector<std::string> args(const std::string& script) {
    return e2e::cli({"--powercap-root", dir / "powercap", "--drm-root", dir / "drm", "--proc-root", dir / "proc",
                     "--nvml-library", dir / "no-such-libnvidia-ml.so.1", "--components", "cpu", "--log-dir",
                     dir / "logs", "--", "sh", "-c", script});
  }
};

void expect_fifo_run_stopped_by(int signo) {
  FifoProc m;
  e2e::Process p(m.args("echo ready; while :; do sleep 0.05; done"), m.dir.path());
  ASSERT_TRUE(e2e::eventually([&] { return p.out_so_far() == "ready\n"; }, std::chrono::seconds(30)))
      << "set-up blocked on the FIFO";
  ASSERT_EQ(::kill(p.pid(), signo), 0);
  auto r = p.wait(std::chrono::seconds(60));
  ASSERT_FALSE(r.timed_out) << r.err;
  EXPECT_EQ(r.exit_status, 128 + signo) << r.err;
  // The read is refused in one line that names the file and why.
  EXPECT_NE(r.err.find(m.dir / "proc/stat: not a regular file (a FIFO); refused"), std::string::npos) << r.err;
  EXPECT_FALSE(e2e::file_ending_with(m.dir / "logs", "_carbontracker_output.log").empty()) << "the report is written";
}

TEST(CliSetupSignals, FifoAsProcStatBlocksNothingAndSigtermStillWorks) { expect_fifo_run_stopped_by(SIGTERM); }

TEST(CliSetupSignals, FifoAsProcStatBlocksNothingAndSigintStillWorks) { expect_fifo_run_stopped_by(SIGINT); }

}  // namespace
