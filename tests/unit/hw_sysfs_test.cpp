// RAPL, hwmon and estimate backends against fake sysfs/procfs trees in temporary folders, through
// the real code paths (the real FileReader, or a wrapper that injects read failures).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <set>

#include "epochwatt/epochwatt.hpp"
#include "meters/estimate/estimate.hpp"
#include "meters/estimate/tdp_table.hpp"
#include "meters/hwmon/hwmon.hpp"
#include "meters/rapl/rapl.hpp"

namespace fs = std::filesystem;
using namespace epochwatt;
using namespace epochwatt::meters;

namespace {

class TempTree {
 public:
  TempTree() {
    char tmpl[] = "/tmp/epochwatt-sysfs-XXXXXX";
    root_ = ::mkdtemp(tmpl);
  }
  ~TempTree() { fs::remove_all(root_); }
  const std::string& root() const { return root_; }
  void write(const std::string& rel, const std::string& content) const {
    fs::path p = fs::path(root_) / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << content;
  }
  void remove(const std::string& rel) const { fs::remove(fs::path(root_) / rel); }

 private:
  std::string root_;
};

void add_zone(const TempTree& t, const std::string& zone, const std::string& name, std::uint64_t uj,
              std::uint64_t max_uj = 262143328850ULL) {
  t.write(zone + "/name", name + "\n");
  t.write(zone + "/energy_uj", std::to_string(uj) + "\n");
  t.write(zone + "/max_energy_range_uj", std::to_string(max_uj) + "\n");
}

// Fails reads of paths that end with a given suffix, with a given errno (root ignores chmod 000,
// so permission errors are injected here).
class FailingReader final : public FileReader {
 public:
  FailingReader(std::string suffix, int error) : suffix_(std::move(suffix)), error_(error) {}
  ReadResult read(const std::string& path) const override {
    if (path.size() >= suffix_.size() && path.compare(path.size() - suffix_.size(), suffix_.size(), suffix_) == 0)
      return {std::nullopt, error_};
    return real_file_reader()->read(path);
  }
  std::vector<std::string> list(const std::string& dir, int* error) const override {
    return real_file_reader()->list(dir, error);
  }

 private:
  std::string suffix_;
  int error_;
};

std::set<std::string> labels(const RaplDiscovery& d) {
  std::set<std::string> out;
  for (const auto& z : d.zones) out.insert(z.label);
  return out;
}

bool any_note_contains(const std::vector<DiscoveryNote>& notes, const std::string& text) {
  for (const auto& n : notes)
    if (n.text.find(text) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST(Rapl, TwoSocketsWithDramMmioDuplicateAndPsys) {
  TempTree t;
  add_zone(t, "intel-rapl:0", "package-0", 1000);
  add_zone(t, "intel-rapl:0:0", "core", 10);
  add_zone(t, "intel-rapl:0:1", "dram", 20);
  add_zone(t, "intel-rapl:1", "package-1", 2000);
  add_zone(t, "intel-rapl:1:0", "dram", 30);
  add_zone(t, "intel-rapl-mmio:0", "package-0", 1000);
  add_zone(t, "intel-rapl:2", "psys", 5000);
  RaplConfig cfg;
  cfg.root = t.root();
  RaplDiscovery d = find_rapl_zones(cfg);
  EXPECT_EQ(labels(d), (std::set<std::string>{"cpu:0", "dram:0", "cpu:1", "dram:1"}));
  EXPECT_TRUE(d.reason.empty());
  EXPECT_TRUE(any_note_contains(d.notes, "intel-rapl-mmio:0: same domain as intel-rapl:0")) << d.notes.size();
  for (const auto& z : d.zones) EXPECT_EQ(z.zone.find("mmio"), std::string::npos);
}

TEST(Rapl, MmioZoneUsedWhenItsTwinIsMissing) {
  TempTree t;
  add_zone(t, "intel-rapl-mmio:0", "package-0", 1000);
  RaplConfig cfg;
  cfg.root = t.root();
  RaplDiscovery d = find_rapl_zones(cfg);
  ASSERT_EQ(d.zones.size(), 1u);
  EXPECT_EQ(d.zones[0].zone, "intel-rapl-mmio:0");
  EXPECT_EQ(d.zones[0].label, "cpu:0");
}

TEST(Rapl, MultiDigitIndicesAndParentChildRules) {
  TempTree t;
  add_zone(t, "intel-rapl:12", "package-12", 1000);
  add_zone(t, "intel-rapl:12:0", "core", 10);
  add_zone(t, "intel-rapl:12:1", "uncore", 10);
  add_zone(t, "intel-rapl:13", "psys", 10);
  RaplConfig cfg;
  cfg.root = t.root();
  cfg.domains = {"package", "core", "uncore"};
  RaplDiscovery d = find_rapl_zones(cfg);
  EXPECT_EQ(labels(d), (std::set<std::string>{"cpu:12"}));
  EXPECT_TRUE(any_note_contains(d.notes, "core and uncore are parts of package"));

  cfg.domains = {"core", "uncore"};
  EXPECT_EQ(labels(find_rapl_zones(cfg)), (std::set<std::string>{"core:12", "uncore:12"}));

  cfg.domains = {"psys", "package"};
  RaplDiscovery p = find_rapl_zones(cfg);
  EXPECT_EQ(labels(p), (std::set<std::string>{"psys"}));
  EXPECT_TRUE(any_note_contains(p.notes, "psys covers the whole platform"));
}

TEST(Rapl, NoZonesGivesReason) {
  TempTree t;
  RaplConfig cfg;
  cfg.root = t.root() + "/absent";
  RaplDiscovery d = find_rapl_zones(cfg);
  EXPECT_TRUE(d.zones.empty());
  EXPECT_NE(d.reason.find("no powercap zones"), std::string::npos) << d.reason;
  // A non-empty folder without usable zones is not "available" either (spec D5).
  t.write("intel-rapl:0/name", "psys\n");
  cfg.root = t.root();
  EXPECT_TRUE(find_rapl_zones(cfg).zones.empty());
  EXPECT_FALSE(find_rapl_zones(cfg).reason.empty());
}

TEST(Rapl, PermissionDeniedReasonNamesTheFixes) {
  TempTree t;
  add_zone(t, "intel-rapl:0", "package-0", 1000);
  RaplConfig cfg;
  cfg.root = t.root();
  cfg.reader = std::make_shared<FailingReader>("energy_uj", EACCES);
  RaplDiscovery d = find_rapl_zones(cfg);
  EXPECT_TRUE(d.zones.empty());
  EXPECT_NE(d.reason.find("permission denied on " + t.root() + "/intel-rapl:0/energy_uj"), std::string::npos) << d.reason;
  EXPECT_NE(d.reason.find("sudo chmod o+r"), std::string::npos);
  EXPECT_NE(d.reason.find("SUBSYSTEM==\"powercap\""), std::string::npos);
  EXPECT_NE(d.reason.find("epochwatt devices --fix-permissions"), std::string::npos);
}

TEST(Rapl, CounterWrapsMidEpochThroughTheTracker) {
  TempTree t;
  // A small range so that the counter wraps inside the epoch: 1 000 000 uJ = 1 J.
  add_zone(t, "intel-rapl:0", "package-0", 900000, 1000000);
  RaplConfig cfg;
  cfg.root = t.root();
  Discovery d = discover_rapl(cfg);
  ASSERT_EQ(d.meters.size(), 1u);

  auto clock = std::make_shared<ManualClock>(0.0);
  std::ostringstream console;
  Options o;
  o.epochs = 1;
  o.clock = clock;
  o.console = &console;
  o.discover_meters = false;
  o.components = "cpu";
  o.meters = d.meters;
  o.update_interval = 3600;  // only boundary readings
  Tracker tracker(o);
  clock->set(1.0);
  tracker.epoch_start();
  tracker.flush();  // the start boundary is read at 900000 uJ
  // The counter runs on to its range (1 000 000) and wraps to 150 000: +0.25 J in the epoch.
  t.write("intel-rapl:0/energy_uj", "150000\n");
  clock->set(3.0);
  tracker.epoch_end();
  tracker.flush();
  tracker.stop();
  auto epochs = tracker.epochs();
  ASSERT_EQ(epochs.size(), 1u);
  EXPECT_NEAR(epochs[0].joules, 0.25, 1e-9);
  EXPECT_EQ(epochs[0].devices.at(0).method, Method::counter);
}

TEST(Rapl, MeterWrapAndFailures) {
  TempTree t;
  add_zone(t, "intel-rapl:0", "package-0", 999000, 1000000);
  RaplConfig cfg;
  cfg.root = t.root();
  RaplDiscovery found = find_rapl_zones(cfg);
  ASSERT_EQ(found.zones.size(), 1u);
  auto meter = make_rapl_meter(found.zones[0], cfg.reader);
  meter->open(0);
  t.write("intel-rapl:0/energy_uj", "1000\n");  // wrapped: +1000 +1000 uJ
  MeterReading r = meter->read(1);
  ASSERT_TRUE(r.ok);
  EXPECT_NEAR(r.joules, 0.002, 1e-12);
  t.write("intel-rapl:0/energy_uj", "garbage\n");
  r = meter->read(2);
  EXPECT_FALSE(r.ok);
  EXPECT_FALSE(r.lost);
  EXPECT_NE(r.error.find("not a counter value"), std::string::npos);
  EXPECT_NEAR(r.joules, 0.002, 1e-12);  // the previous value stands
  t.remove("intel-rapl:0/energy_uj");
  r = meter->read(3);
  EXPECT_TRUE(r.lost);
  EXPECT_NEAR(r.joules, 0.002, 1e-12);
}

TEST(Hwmon, AmdCounterAmdPowerIntelCounter) {
  TempTree t;
  t.write("card0/device/hwmon/hwmon3/name", "amdgpu\n");
  t.write("card0/device/hwmon/hwmon3/energy1_input", "5000000\n");
  t.write("card1/device/hwmon/hwmon4/name", "amdgpu\n");
  t.write("card1/device/hwmon/hwmon4/power1_average", "150000000\n");  // 150 W
  t.write("card2/device/hwmon/hwmon5/name", "i915\n");
  t.write("card2/device/hwmon/hwmon5/energy1_input", "1000\n");
  t.write("card3/device/hwmon/hwmon6/name", "nouveau\n");
  t.write("card0-DP-1/status", "connected\n");
  HwmonConfig cfg;
  cfg.drm_root = t.root();
  HwmonDiscovery d = find_hwmon_gpus(cfg);
  ASSERT_EQ(d.gpus.size(), 3u);
  EXPECT_EQ(d.gpus[0].file, "energy1_input");
  EXPECT_TRUE(d.gpus[0].counter);
  EXPECT_EQ(d.gpus[1].file, "power1_average");
  EXPECT_FALSE(d.gpus[1].counter);
  EXPECT_EQ(d.gpus[2].driver, "i915");
  EXPECT_TRUE(any_note_contains(d.notes, "nouveau"));

  Discovery meters = discover_hwmon(cfg);
  ASSERT_EQ(meters.meters.size(), 3u);
  EXPECT_EQ(meters.meters[0]->info().method, Method::counter);
  EXPECT_EQ(meters.meters[1]->info().method, Method::integrated_power);
  for (auto& m : meters.meters) m->open(0.0);
  t.write("card0/device/hwmon/hwmon3/energy1_input", "7500000\n");
  EXPECT_NEAR(meters.meters[0]->read(1.0).joules, 2.5, 1e-9);
  // Power constant at 150 W for 2 s: 300 J by the trapezoid rule.
  EXPECT_NEAR(meters.meters[1]->read(2.0).joules, 300.0, 1e-9);
}

TEST(Hwmon, NothingFoundGivesReason) {
  TempTree t;
  HwmonConfig cfg;
  cfg.drm_root = t.root();
  Discovery d = discover_hwmon(cfg);
  EXPECT_TRUE(d.meters.empty());
  EXPECT_NE(d.reason.find("no DRM card (cardN) under " + t.root()), std::string::npos) << d.reason;
  // A card without a supported hwmon file: the reason says what the card lacks.
  t.write("card0/device/hwmon/hwmon0/name", "amdgpu\n");
  d = discover_hwmon(cfg);
  EXPECT_NE(d.reason.find("no AMD or Intel GPU"), std::string::npos) << d.reason;
}

TEST(TdpTable, ParsesRangesAndMatchesNormalisedNames) {
  EXPECT_NEAR(*parse_tdp_cell("150.0"), 150.0, 1e-12);
  EXPECT_NEAR(*parse_tdp_cell("27.29.5"), (27.2 + 29.5) / 2, 1e-12);
  EXPECT_FALSE(parse_tdp_cell("abc").has_value());
  EXPECT_GT(tdp_table().size(), 4800u);
  EXPECT_EQ(normalise_cpu_model("Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz"), "intel xeon gold 6248");
  EXPECT_EQ(normalise_cpu_model("AMD EPYC 7763 64-Core Processor"), "amd epyc 7763");
  auto m = match_cpu_tdp("Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->entry.model, "Intel Xeon Gold 6248");
  EXPECT_DOUBLE_EQ(m->entry.tdp_w, 150.0);
  auto amd = match_cpu_tdp("AMD EPYC 7763 64-Core Processor");
  ASSERT_TRUE(amd);
  EXPECT_DOUBLE_EQ(amd->entry.tdp_w, 280.0);
  // Contained at word boundaries: the longest table name inside the model name.
  auto contained = match_cpu_tdp("Genuine Intel Xeon Gold 6248 engineering sample");
  ASSERT_TRUE(contained);
  EXPECT_EQ(contained->how, "contained");
  EXPECT_EQ(contained->entry.model, "Intel Xeon Gold 6248");
  EXPECT_FALSE(match_cpu_tdp("Totally Unknown Chip 9").has_value());
}

// match_cpu_tdp scans the embedded CSV itself (start-up cost) instead of the parsed table: it must
// choose what a scan of tdp_table() chooses, for every model in the table and a padded variant.
TEST(TdpTable, MatchingOverTheCsvChoosesWhatTheTableWould) {
  const auto& table = tdp_table();
  auto by_table = [&](const std::string& model) -> const TdpEntry* {
    std::string want = normalise_cpu_model(model);
    const TdpEntry* best = nullptr;
    std::size_t best_len = 0;
    for (const auto& e : table) {
      if (e.key == want) return &e;
      if (e.key.size() <= best_len || e.key.size() < 4) continue;
      for (auto pos = want.find(e.key); pos != std::string::npos; pos = want.find(e.key, pos + 1))
        if ((pos == 0 || want[pos - 1] == ' ') &&
            (pos + e.key.size() == want.size() || want[pos + e.key.size()] == ' ')) {
          best = &e, best_len = e.key.size();
          break;
        }
    }
    return best;
  };
  std::size_t checked = 0;
  for (std::size_t i = 0; i < table.size(); i += 7) {  // every 7th row: the test stays fast
    for (const std::string& model : {table[i].model, "Genuine " + table[i].model + "(TM) CPU @ 3.0GHz"}) {
      const TdpEntry* want = by_table(model);
      auto got = match_cpu_tdp(model);
      ASSERT_EQ(want != nullptr, got.has_value()) << model;
      if (!want) continue;
      EXPECT_EQ(got->entry.model, want->model) << model;
      EXPECT_EQ(got->entry.key, want->key) << model;
      EXPECT_DOUBLE_EQ(got->entry.tdp_w, want->tdp_w) << model;
      ++checked;
    }
  }
  EXPECT_GT(checked, 1000u);
}

TEST(Estimate, CpuFromTdpAndMachineUtilisation) {
  TempTree t;
  t.write("cpuinfo", "processor\t: 0\nmodel name\t: Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz\n");
  t.write("stat", "cpu  100 0 100 800 0 0 0 0 0 0\ncpu0 50 0 50 400 0 0 0 0 0 0\ncpu1 50 0 50 400 0 0 0 0 0 0\n");
  t.write("meminfo", "MemTotal:       16777216 kB\nMemFree: 1 kB\n");
  EstimateConfig cfg;
  cfg.proc_root = t.root();
  CpuEstimateBasis b = cpu_estimate_basis(cfg);
  EXPECT_DOUBLE_EQ(b.tdp_w, 150.0);
  EXPECT_EQ(b.threads, 2);
  EXPECT_NE(b.tdp_source.find("Intel Xeon Gold 6248"), std::string::npos);
  EXPECT_DOUBLE_EQ(installed_memory_gb(cfg), 16.0);

  Discovery d = discover_estimate(cfg, true, true);
  ASSERT_EQ(d.meters.size(), 2u);
  auto& cpu = d.meters[0];
  auto& dram = d.meters[1];
  EXPECT_EQ(cpu->info().method, Method::estimate);
  EXPECT_EQ(cpu->info().device_name, "Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz");
  cpu->open(0.0);
  dram->open(0.0);
  // +100 busy, +100 idle jiffies: 50 % load for 10 s at 150 W TDP = 750 J.
  t.write("stat", "cpu  150 0 150 900 0 0 0 0 0 0\n");
  EXPECT_NEAR(cpu->read(10.0).joules, 750.0, 1e-9);
  // 16 GB x 0.375 W/GB = 6 W for 10 s.
  EXPECT_NEAR(dram->read(10.0).joules, 60.0, 1e-9);
}

TEST(Estimate, UnknownModelUsesWattsPerThread) {
  TempTree t;
  t.write("cpuinfo", "model name\t: Mystery CPU 3000\n");
  t.write("stat", "cpu  1 0 1 8 0 0 0 0\ncpu0 1 0 1 8\ncpu1 0 0 0 0\ncpu2 0 0 0 0\ncpu3 0 0 0 0\n");
  EstimateConfig cfg;
  cfg.proc_root = t.root();
  CpuEstimateBasis b = cpu_estimate_basis(cfg);
  EXPECT_EQ(b.threads, 4);
  EXPECT_DOUBLE_EQ(b.tdp_w, kFallbackWattsPerThread * 4);
  EXPECT_NE(b.tdp_source.find("fallback"), std::string::npos);
}

TEST(Estimate, ProcessTreeUtilisation) {
  TempTree t;
  t.write("cpuinfo", "model name\t: Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz\n");
  t.write("stat", "cpu  0 0 0 0\ncpu0 0\ncpu1 0\n");
  // pid 100 is the root; 101 its child; 200 unrelated. Fields after ")": state ppid ... utime stime cutime cstime.
  auto stat_line = [](int pid, int ppid, int utime, int stime) {
    return std::to_string(pid) + " (p) S " + std::to_string(ppid) + " 0 0 0 0 0 0 0 0 0 " +
           std::to_string(utime) + " " + std::to_string(stime) + " 0 0 20 0 1 0\n";
  };
  t.write("100/stat", stat_line(100, 1, 0, 0));
  t.write("101/stat", stat_line(101, 100, 0, 0));
  t.write("200/stat", stat_line(200, 1, 0, 0));
  EstimateConfig cfg;
  cfg.proc_root = t.root();
  cfg.process_tree = true;
  cfg.root_pid = 100;
  Discovery d = discover_estimate(cfg, true, false);
  ASSERT_EQ(d.meters.size(), 1u);
  auto& cpu = d.meters[0];
  cpu->open(0.0);
  double hz = static_cast<double>(::sysconf(_SC_CLK_TCK));
  // In 1 s the tree used one thread fully (hz ticks) of 2: 50 % of 150 W = 75 J; pid 200's
  // ticks do not count.
  t.write("101/stat", stat_line(101, 100, static_cast<int>(hz), 0));
  t.write("200/stat", stat_line(200, 1, static_cast<int>(hz) * 5, 0));
  EXPECT_NEAR(cpu->read(1.0).joules, 75.0, 1e-6);
}
