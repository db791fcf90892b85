// `epochwatt parse` on a file system whose read() returns fewer bytes than asked before the end
// of a file (FUSE, NFS; POSIX allows it): the logs are read until read() returns 0, so every run
// and every epoch is read back, as from a local disk. tests/short_read/ is the read() double.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "e2e/cli_harness.hpp"

namespace {

using e2e::cli;
using e2e::TempDir;

// argv that runs epochwatt with `args` under the short-read double (reads of `bytes` at most).
std::vector<std::string> short_reads(std::size_t bytes, const std::string& count_file,
                                     const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"/usr/bin/env", std::string("LD_PRELOAD=") + SHORT_READ_LIBRARY,
                                   "EW_SHORT_READ_BYTES=" + std::to_string(bytes),
                                   "EW_SHORT_READ_COUNT_FILE=" + count_file,
                                   // an ASan build accepts a preloaded library ahead of its runtime
                                   "ASAN_OPTIONS=verify_asan_link_order=0"};
  for (auto& a : cli(args)) argv.push_back(a);
  return argv;
}

TEST(CliParseShortRead, ShortReadsGiveTheWholeRun) {
  TempDir tmp;
  const std::string data = std::string(EPOCHWATT_TEST_DATA_DIR) + "/ct_logs";
  for (const std::string& dir : {data + "/v2.4", data + "/v2.3"}) {
    for (const std::vector<std::string>& mode :
         {std::vector<std::string>{"parse", "--json", dir}, std::vector<std::string>{"parse", "--table", dir},
          std::vector<std::string>{"parse", dir}}) {
      auto direct = e2e::run(cli(mode), tmp.path());
      ASSERT_EQ(direct.exit_status, 0) << direct.err;
      // 97 bytes: reads end inside lines and at line ends alike, so that a read that stopped
      // early would either cut a line or silently drop the epochs after it.
      for (std::size_t bytes : {97u, 4096u}) {
        std::string count_file = tmp / ("count-" + std::to_string(bytes));
        auto r = e2e::run(short_reads(bytes, count_file, mode), tmp.path());
        EXPECT_EQ(r.exit_status, 0) << dir << " " << bytes << ": " << r.err;
        EXPECT_EQ(r.out, direct.out) << dir << " " << bytes;
        EXPECT_EQ(r.err, direct.err) << dir << " " << bytes;
        // The double was in effect: it shortened reads of the logs.
        EXPECT_GT(std::stol("0" + e2e::read_file(count_file)), 0) << dir << " " << bytes;
      }
    }
  }
  // The runs and their epochs are all there (the JSON lists the runs; v2.4 holds 3 pairs).
  auto r = e2e::run(short_reads(97, tmp / "count", {"parse", "--json", data + "/v2.4"}), tmp.path());
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["runs"].size(), 3u) << r.out;
}

}  // namespace
