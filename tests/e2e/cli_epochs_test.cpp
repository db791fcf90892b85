// --epochs N --epoch-regex R: epochs end at the lines of the child's output that match R; a
// prediction for N epochs follows the first, the actual block the N-th (or the child's end).
#include <gtest/gtest.h>

#include "e2e/cli_harness.hpp"

namespace {

using e2e::cli;
using e2e::TempDir;

std::vector<std::string> epochs_run(const std::string& log_dir, const std::string& script) {
  return cli({"--log_dir", log_dir, "--sim-cpu", "X", "--sim-cpu-tdp", "10", "--components", "cpu", "--epochs", "3",
              "--epoch-regex", "epoch \\d+ done", "--", "sh", "-c", script});
}

TEST(CliEpochs, RegexMatchesEndEpochsWithAPredictionAfterTheFirst) {
  TempDir tmp;
  std::string logs = tmp / "logs";
  // Matches on stdout and on stderr both count; "epoch x done" does not match \d+.
  auto r = e2e::run(epochs_run(logs, "sleep 0.2; echo 'epoch 1 done'; echo 'epoch x done'; sleep 0.3; "
                                     "echo 'epoch 2 done' >&2; sleep 0.2; echo 'epoch 3 done'; echo after"),
                    tmp.path());
  ASSERT_EQ(r.exit_status, 0) << r.err;
  EXPECT_EQ(r.out, "epoch 1 done\nepoch x done\nepoch 3 done\nafter\n") << "stdout is the child's, unchanged";

  std::size_t predicted = r.err.find("\nPredicted consumption for 3 epoch(s):\n");
  std::size_t epoch2 = r.err.find("epoch 2 done\n");
  std::size_t actual = r.err.find("\nActual consumption for 3 epoch(s):\n");
  ASSERT_NE(predicted, std::string::npos) << r.err;
  ASSERT_NE(epoch2, std::string::npos) << r.err;
  ASSERT_NE(actual, std::string::npos) << r.err;
  EXPECT_LT(predicted, epoch2) << "the prediction comes at the first match, before epoch 2 ends";
  EXPECT_LT(epoch2, actual);

  std::string std_log = e2e::read_file(e2e::file_ending_with(logs, "_carbontracker.log"));
  for (const char* e : {" - Epoch 1:\n", " - Epoch 2:\n", " - Epoch 3:\n"}) EXPECT_EQ(e2e::count(std_log, e), 1u) << e;
  EXPECT_EQ(e2e::count(std_log, " - Epoch 4:"), 0u);
  EXPECT_EQ(std_log.find("Training was interrupted"), std::string::npos);
  // Each epoch lasted about 0.2 s.
  auto durations = e2e::all_between(std_log, " - Duration: 0:00:", "\n");
  ASSERT_EQ(durations.size(), 3u);
  for (const auto& d : durations) EXPECT_GE(std::stod(d), 0.15) << d;
}

TEST(CliEpochs, AChildThatEndsEarlyLeavesAnInterruptedEpoch) {
  TempDir tmp;
  std::string logs = tmp / "logs";
  auto r = e2e::run(epochs_run(logs, "echo 'epoch 1 done'; sleep 0.1; echo 'epoch 2 done'; sleep 0.1; exit 4"),
                    tmp.path());
  EXPECT_EQ(r.exit_status, 4);
  EXPECT_NE(r.err.find("\nActual consumption for 2 epoch(s):\n"), std::string::npos) << r.err;
  std::string std_log = e2e::read_file(e2e::file_ending_with(logs, "_carbontracker.log"));
  EXPECT_NE(std_log.find("Training was interrupted before all 3 epochs were monitored."), std::string::npos);
  EXPECT_EQ(e2e::count(std_log, " - Epoch 3:"), 0u) << "the open epoch is not counted";
}

TEST(CliEpochs, ALastLineWithoutNewlineStillCounts) {
  TempDir tmp;
  std::string logs = tmp / "logs";
  auto r = e2e::run(epochs_run(logs, "echo 'epoch 1 done'; echo 'epoch 2 done'; printf 'epoch 3 done'"), tmp.path());
  EXPECT_EQ(r.exit_status, 0);
  EXPECT_EQ(r.out, "epoch 1 done\nepoch 2 done\nepoch 3 done");
  EXPECT_NE(r.err.find("\nActual consumption for 3 epoch(s):\n"), std::string::npos) << r.err;
}

// A job that prints fast and exits: all it wrote before exiting is in the pipe when it is reaped,
// and all of it is forwarded and matched, however long that takes. The 1 s drain limit once cut
// it short (main at 5119141: 25,061 of 30,000 `seq` lines reached stdout, and as many epochs).
TEST(CliEpochs, EverythingTheJobWroteBeforeItExitedIsForwardedAndCounted) {
  TempDir tmp;
  // 40,000 lines (230 kB, all of which can wait in the 1 MiB pipe at the job's exit): a few
  // seconds alone, and far within the timeout on a loaded machine (200,000 took 30 s there).
  const int n = 40000;
  auto r = e2e::run(cli({"--log_dir", tmp / "logs", "--sim-cpu", "X", "--sim-cpu-tdp", "10", "--components", "cpu",
                         "--epochs", std::to_string(n), "--epoch-regex", "^[0-9]", "--quiet", "--", "seq",
                         std::to_string(n)}),
                    tmp.path(), std::chrono::seconds(150));
  ASSERT_EQ(r.exit_status, 0) << r.err;
  EXPECT_EQ(e2e::count(r.out, "\n"), static_cast<std::size_t>(n));
  EXPECT_EQ(r.out.substr(r.out.size() - 6), "40000\n");
  std::string out_log = e2e::read_file(e2e::file_ending_with(tmp / "logs", "_carbontracker_output.log"));
  EXPECT_NE(out_log.find("Actual consumption for 40000 epoch(s):"), std::string::npos);
}

}  // namespace
