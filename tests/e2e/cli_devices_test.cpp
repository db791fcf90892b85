// `epochwatt devices` on a machine without RAPL or GPUs (roots pointed at empty or fake trees):
// every backend listed, each with its reason, and the CPU estimate with its model name, TDP
// source and method.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli_harness.hpp"

namespace {

void write(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path) << text;
}

struct FakeMachine {
  e2e::TempDir dir;
  FakeMachine() {
    write(dir / "proc/cpuinfo", "processor\t: 0\nmodel name\t: Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz\n");
    write(dir / "proc/stat", "cpu  10 0 10 80 0 0 0 0\ncpu0 5 0 5 40\ncpu1 5 0 5 40\n");
    write(dir / "proc/meminfo", "MemTotal:       8388608 kB\n");
    std::filesystem::create_directories(dir / "powercap");
    std::filesystem::create_directories(dir / "drm");
  }
  std::vector<std::string> roots() {
    return {"--powercap-root", dir / "powercap", "--drm-root", dir / "drm", "--proc-root", dir / "proc",
            "--nvml-library", dir / "no-such-libnvidia-ml.so.1"};
  }
};

}  // namespace

TEST(CliDevices, ListsEveryBackendWithItsReasonAndTheEstimateBasis) {
  FakeMachine m;
  std::vector<std::string> args{"devices"};
  for (auto& a : m.roots()) args.push_back(a);
  e2e::Outcome o = e2e::run(e2e::cli(args), m.dir.path());
  ASSERT_EQ(o.exit_status, 0) << o.err;
  for (const char* backend : {"simulated (", "replay (", "rapl (", "nvml (", "hwmon (", "estimate ("})
    EXPECT_NE(o.out.find(backend), std::string::npos) << backend << "\n" << o.out;
  EXPECT_NE(o.out.find("nothing found: no powercap zones under " + (m.dir / "powercap")), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("no-such-libnvidia-ml.so.1"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("estimate:cpu  cpu  Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz  [estimate]"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("TDP 150 W (TDP table (exact match: Intel Xeon Gold 6248))"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("8.00 GB installed x 0.375 W/GB = 3.00 W"), std::string::npos) << o.out;
}

TEST(CliDevices, JsonHasTheSameFacts) {
  FakeMachine m;
  std::vector<std::string> args{"devices", "--json"};
  for (auto& a : m.roots()) args.push_back(a);
  e2e::Outcome o = e2e::run(e2e::cli(args), m.dir.path());
  ASSERT_EQ(o.exit_status, 0) << o.err;
  auto j = nlohmann::json::parse(o.out);
  std::map<std::string, nlohmann::json> by_name;
  for (const auto& b : j.at("backends")) by_name[b.at("name").get<std::string>()] = b;
  ASSERT_EQ(by_name.count("rapl"), 1u);
  EXPECT_TRUE(by_name["rapl"].at("meters").empty());
  EXPECT_FALSE(by_name["rapl"].at("reason").get<std::string>().empty());
  EXPECT_FALSE(by_name["nvml"].at("reason").get<std::string>().empty());
  EXPECT_FALSE(by_name["hwmon"].at("reason").get<std::string>().empty());
  const auto& est = by_name["estimate"].at("meters");
  ASSERT_EQ(est.size(), 2u);
  EXPECT_EQ(est[0].at("method"), "estimate");
  EXPECT_EQ(est[0].at("device"), "Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz");
  EXPECT_NE(est[0].at("detail").get<std::string>().find("TDP table"), std::string::npos);
  EXPECT_TRUE(by_name["estimate"].at("reason").is_null());
}

TEST(CliDevices, FixPermissionsAndBadOptions) {
  FakeMachine m;
  // A zone whose counter is readable by root only; --fix-permissions (we run as root in CI,
  // else it must refuse) makes it world-readable.
  write(m.dir / "powercap/intel-rapl:0/name", "package-0\n");
  write(m.dir / "powercap/intel-rapl:0/energy_uj", "1\n");
  std::filesystem::permissions(m.dir / "powercap/intel-rapl:0/energy_uj", std::filesystem::perms::owner_read);
  e2e::Outcome o = e2e::run(e2e::cli({"devices", "--fix-permissions", "--powercap-root", m.dir / "powercap"}), m.dir.path());
  if (::geteuid() == 0) {
    ASSERT_EQ(o.exit_status, 0) << o.err;
    EXPECT_NE(o.out.find("now readable by all users"), std::string::npos) << o.out;
    auto p = std::filesystem::status(m.dir / "powercap/intel-rapl:0/energy_uj").permissions();
    EXPECT_NE(p & std::filesystem::perms::others_read, std::filesystem::perms::none);
  } else {
    EXPECT_EQ(o.exit_status, 1);
    EXPECT_NE(o.err.find("must run as root"), std::string::npos) << o.err;
  }
  e2e::Outcome bad = e2e::run(e2e::cli({"devices", "--bogus"}), m.dir.path());
  EXPECT_EQ(bad.exit_status, 2);
  EXPECT_NE(bad.err.find("unknown or incomplete option '--bogus'"), std::string::npos) << bad.err;
}

TEST(CliHardware, RunUsesTheRaplCounterAndNamesIt) {
  FakeMachine m;
  write(m.dir / "powercap/intel-rapl:0/name", "package-0\n");
  write(m.dir / "powercap/intel-rapl:0/energy_uj", "1000000\n");
  write(m.dir / "powercap/intel-rapl:0/max_energy_range_uj", "262143328850\n");
  std::vector<std::string> args{"--log-dir", m.dir / "logs", "--components", "cpu"};
  for (auto& a : m.roots()) args.push_back(a);
  args.insert(args.end(), {"--", "sh", "-c", "sleep 0.2"});
  e2e::Outcome o = e2e::run(e2e::cli(args), m.dir.path());
  ASSERT_EQ(o.exit_status, 0) << o.err;
  std::string std_log;
  for (const auto& f : std::filesystem::directory_iterator(m.dir / "logs")) {
    std::string name = f.path().filename().string();
    const std::string suffix = "_carbontracker.log";
    if (name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
      std::ifstream in(f.path());
      std_log.assign(std::istreambuf_iterator<char>(in), {});
    }
  }
  EXPECT_NE(std_log.find("The following components were found: CPU with device(s) cpu:0."), std::string::npos) << std_log;
  EXPECT_NE(std_log.find("Power by device (W) for cpu [counter]: cpu:0=0.0"), std::string::npos) << std_log;
  EXPECT_NE(std_log.find("RAPL energy counter " + (m.dir / "powercap") + "/intel-rapl:0/energy_uj"), std::string::npos) << std_log;
}

// --devices-by-pid: the root of the tree is epochwatt itself, so COMMAND and its children are in
// it. A GPU on which only another process (PID 1) runs counts 0 J with the flag and its energy
// without it (the fake NVML library, 250 W).
TEST(CliDevicesByPid, AGpuTheCommandNeverUsesCountsNothing) {
  e2e::TempDir tmp;
  write(tmp / "scenario.txt", "[gpu]\nname = Busy elsewhere\nwatts = 250\ncompute_pids = 1\n");
  auto run = [&](bool by_pid) {
    std::string json = tmp / (by_pid ? "by_pid.json" : "all.json");
    std::vector<std::string> args = {"env", "FAKE_NVML_SCENARIO=" + (tmp / "scenario.txt"), EPOCHWATT_CLI,
                                     "--nvml-library", FAKE_NVML_LIBRARY, "--components", "gpu", "--log-dir=",
                                     "--json", json, "--quiet"};
    if (by_pid) args.push_back("--devices-by-pid");
    for (const char* a : {"--", "sleep", "1.2"}) args.push_back(a);
    e2e::Outcome o = e2e::run(args, tmp.path());
    EXPECT_EQ(o.exit_status, 0) << o.err;
    std::ifstream f(json);
    return nlohmann::json::parse(f);
  };
  auto gated = run(true);
  ASSERT_EQ(gated["context"]["devices"].size(), 1u);
  EXPECT_NE(gated["context"]["devices"][0]["detail"].get<std::string>().find("counted only while a process of PID "),
            std::string::npos)
      << gated["context"]["devices"][0];
  EXPECT_DOUBLE_EQ(gated["actual"]["energy_kwh"].get<double>(), 0.0);
  auto all = run(false);
  EXPECT_GT(all["actual"]["energy_kwh"].get<double>(), 250.0 * 1.0 * 1.58 / 3.6e6) << "at least 1 s at 250 W";
}
