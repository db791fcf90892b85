// Exit status and signals (spec §13 D21): epochwatt exits as its child did, 128 + N when signal N
// killed it, 127 when it could not start it; signals sent to epochwatt reach the child; and the
// report is written in every case.
#include <signal.h>

#include <gtest/gtest.h>

#include "e2e/cli_harness.hpp"

namespace {

using e2e::cli;
using e2e::TempDir;

std::vector<std::string> with_sim(const std::string& log_dir, std::vector<std::string> command) {
  std::vector<std::string> args = {"--log_dir", log_dir, "--sim-cpu", "X", "--sim-cpu-tdp", "1", "--sim-gpu", "Y",
                                   "--sim-gpu-watts", "1", "--"};
  args.insert(args.end(), command.begin(), command.end());
  return cli(args);
}

// The report of a one-epoch CLI run is complete: actual block in the output log, epoch in the
// standard log.
void expect_report(const std::string& logs) {
  std::string out_log = e2e::file_ending_with(logs, "_carbontracker_output.log");
  std::string std_log = e2e::file_ending_with(logs, "_carbontracker.log");
  ASSERT_FALSE(out_log.empty()) << "no output log in " << logs;
  ASSERT_FALSE(std_log.empty()) << "no standard log in " << logs;
  EXPECT_NE(e2e::read_file(out_log).find("Actual consumption:\n\tTime:\t"), std::string::npos);
  EXPECT_NE(e2e::read_file(out_log).find("Finished monitoring."), std::string::npos);
  EXPECT_NE(e2e::read_file(std_log).find(" - Epoch 1:\n"), std::string::npos);
}

TEST(CliExitStatus, IsTheChilds) {
  TempDir tmp;
  auto r = e2e::run(with_sim(tmp / "logs", {"sh", "-c", "exit 3"}), tmp.path());
  EXPECT_EQ(r.exit_status, 3) << r.err;
  expect_report(tmp / "logs");
}

TEST(CliExitStatus, KilledBySignalIs128PlusTheSignal) {
  TempDir tmp;
  auto r = e2e::run(with_sim(tmp / "logs", {"sh", "-c", "kill -9 $$"}), tmp.path());
  EXPECT_EQ(r.exit_status, 128 + 9) << r.err;
  expect_report(tmp / "logs");
}

TEST(CliExitStatus, CommandThatCannotStartIs127AndStillReports) {
  TempDir tmp;
  auto r = e2e::run(with_sim(tmp / "logs", {"no-such-command-ew-e2e", "arg"}), tmp.path());
  EXPECT_EQ(r.exit_status, 127);
  EXPECT_EQ(e2e::count(r.err, "epochwatt: cannot run 'no-such-command-ew-e2e': No such file or directory\n"), 1u)
      << r.err;
  expect_report(tmp / "logs");
}

TEST(CliSignals, SigintReachesTheChildOnceAndTheReportIsWritten) {
  TempDir tmp;
  e2e::Process p(with_sim(tmp / "logs", {"sh", "-c",
                                         "trap 'echo got-int; exit 5' INT; echo ready; "
                                         "while :; do sleep 0.05; done"}),
                 tmp.path());
  ASSERT_TRUE(e2e::eventually([&] { return p.out_so_far() == "ready\n"; })) << p.out_so_far();
  ASSERT_EQ(::kill(p.pid(), SIGINT), 0);
  auto r = p.wait(std::chrono::seconds(10));
  ASSERT_FALSE(r.timed_out) << "the child never saw the SIGINT";
  EXPECT_EQ(r.exit_status, 5) << r.err;
  EXPECT_EQ(r.out, "ready\ngot-int\n");
  expect_report(tmp / "logs");
}

TEST(CliSignals, SigtermKillsTheChildAndTheReportIsWritten) {
  TempDir tmp;
  e2e::Process p(with_sim(tmp / "logs", {"sh", "-c", "echo ready; while :; do sleep 0.05; done"}), tmp.path());
  ASSERT_TRUE(e2e::eventually([&] { return p.out_so_far() == "ready\n"; })) << p.out_so_far();
  ASSERT_EQ(::kill(p.pid(), SIGTERM), 0);
  auto r = p.wait(std::chrono::seconds(10));
  ASSERT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_status, 128 + SIGTERM) << r.err;
  expect_report(tmp / "logs");
}

}  // namespace
