// The command line itself: a bad one is one line on stderr and status 2, and the command is not
// started; --help, --version, and the original's modes that this version lacks.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "e2e/cli_harness.hpp"
#include "epochwatt/registry.hpp"
#include "epochwatt/version.hpp"

namespace {

using e2e::cli;
using e2e::TempDir;

struct BadCase {
  const char* name;
  std::vector<std::string> options;  // after `--log_dir DIR`, before `-- touch MARKER`
  std::string message;               // the whole stderr, "epochwatt: " included
};

// gtest shows this in test listings instead of the struct's raw bytes.
void PrintTo(const BadCase& c, std::ostream* os) { *os << c.name; }

class CliBadOptions : public ::testing::TestWithParam<BadCase> {};

TEST_P(CliBadOptions, OneLineStatus2AndTheCommandNeverRuns) {
  const BadCase& c = GetParam();
  TempDir tmp;
  std::vector<std::string> args = {"--log_dir", tmp / "logs"};
  args.insert(args.end(), c.options.begin(), c.options.end());
  std::string marker = tmp / "the-command-ran";
  for (const std::string& a : {std::string("--"), std::string("touch"), marker}) args.push_back(a);
  auto r = e2e::run(cli(args), tmp.path());
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_EQ(r.err, c.message);
  EXPECT_EQ(r.out, "");
  EXPECT_FALSE(std::filesystem::exists(marker));
  EXPECT_FALSE(std::filesystem::exists(tmp / "logs")) << "no tracker, no logs";
}

INSTANTIATE_TEST_SUITE_P(
    Cases, CliBadOptions,
    ::testing::Values(
        BadCase{"UnknownFlag", {"--bogus-flag"},
                "epochwatt: unknown option '--bogus-flag' (see epochwatt --help)\n"},
        BadCase{"SimCpuWithoutTdp", {"--sim-cpu", "X"},
                "epochwatt: When using simulated CPU (sim_cpu), you must also specify the CPU TDP (sim_cpu_tdp)\n"},
        BadCase{"SimGpuWithoutWatts", {"--sim-gpu", "Y"},
                "epochwatt: When using simulated GPU (sim_gpu), you must also specify the GPU power consumption "
                "(sim_gpu_watts)\n"},
        BadCase{"EpochsNotANumber", {"--epochs", "abc", "--epoch-regex", "x"},
                "epochwatt: --epochs: 'abc' is not an integer\n"},
        BadCase{"EpochsWithoutRegex", {"--sim-cpu", "X", "--sim-cpu-tdp", "1", "--epochs", "3"},
                "epochwatt: --epochs needs --epoch-regex REGEX: an epoch ends at each line of the command's "
                "output that matches it (or --epoch-start-regex REGEX: an epoch starts at each match)\n"},
        BadCase{"RegexWithoutEpochs", {"--epoch-regex", "x"},
                "epochwatt: --epoch-regex needs --epochs N, the number of epochs the prediction is for\n"},
        BadCase{"InvalidRegex", {"--epochs", "2", "--epoch-regex", "epoch ("},
                "epochwatt: --epoch-regex: invalid regular expression 'epoch (': missing ): epoch ( (RE2 syntax, "
                "which has no backreferences and no lookaround: see docs/cli.md)\n"},
        BadCase{"NotANumber", {"--sim-cpu", "X", "--sim-cpu-tdp", "10W"},
                "epochwatt: --sim-cpu-tdp: '10W' is not a finite number\n"},
        BadCase{"UtilOutOfRange", {"--sim-cpu", "X", "--sim-cpu-tdp", "1", "--sim-cpu-util=1.5"},
                "epochwatt: CPU utilization must be between 0.0 and 1.0.\n"},
        BadCase{"PueBelowOne", {"--pue", "0.5"}, "epochwatt: pue must be a finite number >= 1.0.\n"},
        BadCase{"UnknownComponent", {"--components", "tpu"},
                "epochwatt: No component found with name 'tpu'.\n"},
        BadCase{"FlagGivenAValue", {"--quiet=yes"}, "epochwatt: --quiet takes no value\n"},
        BadCase{"ReportTakesNoCommand", {"--report", "x_carbontracker.log", "--", "sh", "-c", "echo started"},
                "epochwatt: --report takes no command ('sh')\n"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(CliOptions, MissingValueIsStatus2) {
  TempDir tmp;
  auto r = e2e::run(cli({"--log_dir"}), tmp.path());
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_EQ(r.err, "epochwatt: --log_dir needs a value (DIR)\n");
}

TEST(CliOptions, HelpListsEveryOptionAndExits0) {
  TempDir tmp;
  for (const char* flag : {"--help", "-h"}) {
    auto r = e2e::run(cli({flag, "--bogus-after-help"}), tmp.path());
    EXPECT_EQ(r.exit_status, 0) << flag;
    EXPECT_EQ(r.err, "");
    EXPECT_EQ(r.out.rfind("Usage: epochwatt [OPTIONS] [--] COMMAND [ARGS...]\n", 0), 0u) << r.out;
    for (const char* option :
         {"--log_dir", "--log-dir", "--log-file-prefix", "--sim-cpu", "--sim-cpu-tdp", "--sim-cpu-util", "--sim-gpu",
          "--sim-gpu-watts", "--sim-gpu-util", "--api_keys", "--components", "--pue", "--country", "--intensity",
          "--update-interval", "--decimal-precision", "--replay", "--replay-component", "--replay-power", "--epochs",
          "--epoch-regex", "--json", "--quiet", "--version"})
      EXPECT_NE(r.out.find(option), std::string::npos) << option;
  }
}

TEST(CliOptions, VersionIsTheLibrarysAndExits0) {
  TempDir tmp;
  auto r = e2e::run(cli({"--version"}), tmp.path());
  EXPECT_EQ(r.exit_status, 0);
  EXPECT_EQ(r.out, std::string("epochwatt ") + epochwatt::kVersion + "\n");
}

// carbontracker's --api_keys is read, never echoed, and blanked in epochwatt's own argv once read:
// the tracked command, a child of epochwatt, reads its parent's /proc/PID/cmdline.
TEST(CliOptions, ApiKeysAreUsedNeverEchoedAndBlankedInArgv) {
  TempDir tmp;
  auto r = e2e::run(cli({"--log_dir", tmp / "logs", "--sim-cpu", "X", "--sim-cpu-tdp", "1", "--components", "cpu",
                         "--api_keys", "{\"electricitymaps\": \"SECRET-KEY-123\"}", "--quiet", "--", "sh", "-c",
                         "tr '\\0' ' ' < /proc/$PPID/cmdline"}),
                    tmp.path());
  EXPECT_EQ(r.exit_status, 0) << r.err;
  EXPECT_EQ(e2e::count(r.err, "epochwatt: warning: an API key on the command line can be read by other users"), 1u)
      << r.err;
  EXPECT_NE(r.out.find("--api_keys xxxxxxxx"), std::string::npos) << r.out;  // the parent's argv, blanked
  EXPECT_EQ(r.out.find("SECRET-KEY-123"), std::string::npos) << r.out;
  EXPECT_EQ(r.err.find("SECRET-KEY-123"), std::string::npos);
  for (const auto& f : e2e::files_in(tmp / "logs"))
    EXPECT_EQ(e2e::read_file(tmp / "logs/" + f).find("SECRET-KEY-123"), std::string::npos) << f;

  // A value that is not a dict is refused without being repeated; so is an unknown provider.
  auto bad = e2e::run(cli({"--api_keys", "SECRET-KEY-123", "true"}), tmp.path());
  EXPECT_EQ(bad.exit_status, 2);
  EXPECT_EQ(bad.err.find("SECRET-KEY-123"), std::string::npos) << bad.err;
  auto unknown = e2e::run(cli({"--api_keys", "{'nope': 'SECRET-KEY-123'}", "true"}), tmp.path());
  EXPECT_EQ(unknown.exit_status, 2);
  EXPECT_NE(unknown.err.find("no provider named 'nope'"), std::string::npos) << unknown.err;
  EXPECT_EQ(unknown.err.find("SECRET-KEY-123"), std::string::npos) << unknown.err;
}

}  // namespace

namespace {

// `devices` is a subcommand only as the very first argument; after `--` (or after options) it is
// a command like any other.
TEST(CliOptions, DevicesIsASubcommandOnlyAsTheFirstArgument) {
  TempDir tmp;
  auto sub = e2e::run(cli({"devices"}), tmp.path());
  EXPECT_EQ(sub.exit_status, 0) << sub.err;
  EXPECT_NE(sub.out.find("simulated"), std::string::npos) << sub.out;

  auto cmd = e2e::run(cli({"--log_dir", tmp / "logs", "--sim-cpu", "X", "--sim-cpu-tdp", "1", "--components", "cpu",
                           "--quiet", "--", "devices"}),
                      tmp.path());
  EXPECT_EQ(cmd.exit_status, 127);
  EXPECT_NE(cmd.err.find("epochwatt: cannot run 'devices': "), std::string::npos) << cmd.err;
}

}  // namespace

namespace {

// The backends' options in `epochwatt --help` and `devices --json` come from the backends' own
// table (epochwatt/registry.hpp), with its flags and its help text.
TEST(CliHelp, BackendOptionsComeFromTheBackendsTable) {
  e2e::TempDir tmp;
  auto help = e2e::run(cli({"--help"}), tmp.path());
  ASSERT_EQ(help.exit_status, 0) << help.err;
  auto devices = e2e::run(cli({"devices", "--json"}), tmp.path());
  ASSERT_EQ(devices.exit_status, 0) << devices.err;
  auto j = nlohmann::json::parse(devices.out);
  std::size_t listed = 0;
  for (const auto& b : epochwatt::BackendRegistry::builtin().backends())
    for (const auto& opt : b.options) {
      EXPECT_NE(help.out.find(opt.cli_flag), std::string::npos) << opt.cli_flag;
      std::string start = opt.help.substr(1, 24);  // the first letter is capitalised in --help
      EXPECT_NE(help.out.find(start), std::string::npos) << opt.name << ": " << start;
      for (const auto& jb : j["backends"])
        if (jb["name"] == b.name)
          for (const auto& jo : jb["options"])
            if (jo["name"] == opt.name) {
              EXPECT_EQ(jo["flag"], opt.cli_flag);
              EXPECT_EQ(jo["type"], opt.type);
              EXPECT_EQ(jo["help"], opt.help);
              ++listed;
            }
    }
  EXPECT_EQ(listed, 17u);
}

// Every row of the backends' table works end to end with nothing but the row: its flag is read
// by the CLI's one loop as the row's type, both by the main command and by `devices`, and reaches
// its backend, whose values `devices --json` prints. A sample value per type.
TEST(CliHelp, EveryBackendOptionsFlagReachesItsBackend) {
  TempDir tmp;
  const std::string missing = tmp / "missing";
  std::vector<std::string> args;
  std::map<std::string, nlohmann::json> expected;  // option name -> the value its backend is given
  for (const auto& b : epochwatt::BackendRegistry::builtin().backends())
    for (const auto& opt : b.options) {
      args.push_back(opt.cli_flag);
      if (opt.type == "bool") {
        expected[opt.name] = true;  // a flag without a value
      } else if (opt.type == "number") {
        args.push_back("2.5");
        expected[opt.name] = 2.5;
      } else if (opt.type == "component") {
        args.push_back("cpu");
        expected[opt.name] = "cpu";
      } else if (opt.type == "list") {
        args.push_back("package,core");
        expected[opt.name] = {"package", "core"};
      } else {
        args.push_back(missing);
        expected[opt.name] = missing;
      }
    }

  std::vector<std::string> devices = {"devices", "--json"};
  devices.insert(devices.end(), args.begin(), args.end());
  auto r = e2e::run(cli(devices), tmp.path());
  ASSERT_EQ(r.exit_status, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  std::size_t checked = 0;
  for (const auto& jb : j["backends"])
    for (const auto& jo : jb["options"]) {
      ASSERT_TRUE(expected.count(jo["name"])) << jo["name"];
      EXPECT_EQ(jo["value"], expected[jo["name"]]) << jb["name"] << " " << jo["name"];
      ++checked;
    }
  EXPECT_EQ(checked, expected.size());

  // The main command reads each of them too (-h ends the parse after them, status 0).
  std::vector<std::string> run = args;
  run.push_back("--help");
  auto h = e2e::run(cli(run), tmp.path());
  EXPECT_EQ(h.exit_status, 0) << h.err;
  EXPECT_EQ(h.err, "");
}

}  // namespace
