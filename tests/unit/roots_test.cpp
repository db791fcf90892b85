// Every root a user can give (the powercap tree, the drm folder, the proc folder) is found from
// any sensible level, one level lower or higher than expected, or refused with a reason that names
// the right level (issue 12, item 1). The trees are laid out as the kernel lays them out, in
// temporary folders, and read through the real FileReader.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "epochwatt/epochwatt.hpp"
#include "meters/hwmon/hwmon.hpp"
#include "meters/rapl/rapl.hpp"
#include "meters/sysfs/proc_root.hpp"

namespace fs = std::filesystem;
using namespace epochwatt;
using namespace epochwatt::meters;

namespace {

class Tree {
 public:
  Tree() {
    char tmpl[] = "/tmp/epochwatt-roots-XXXXXX";
    root_ = ::mkdtemp(tmpl);
  }
  ~Tree() { fs::remove_all(root_); }
  std::string operator/(const std::string& rel) const { return root_ + "/" + rel; }
  void write(const std::string& rel, const std::string& content) const {
    fs::path p = fs::path(root_) / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << content;
  }
  void link(const std::string& target, const std::string& rel) const {
    fs::create_directories((fs::path(root_) / rel).parent_path());
    fs::create_directory_symlink(target, fs::path(root_) / rel);
  }

 private:
  std::string root_;
};

// The kernel's powercap layout on a two-socket host: the zones live nested under
// sys/devices/virtual/powercap/intel-rapl (each package with its dram subzone inside), and
// sys/class/powercap holds flat links to every zone and one to the control-type folder.
void two_socket_powercap(const Tree& t) {
  const std::string real = "sys/devices/virtual/powercap/intel-rapl";
  t.write(real + "/enabled", "1\n");
  for (int s = 0; s < 2; ++s) {
    std::string pkg = "intel-rapl:" + std::to_string(s), dram = pkg + ":0";
    t.write(real + "/" + pkg + "/name", "package-" + std::to_string(s) + "\n");
    t.write(real + "/" + pkg + "/energy_uj", "1000000\n");
    t.write(real + "/" + pkg + "/max_energy_range_uj", "262143328850\n");
    t.write(real + "/" + pkg + "/" + dram + "/name", "dram\n");
    t.write(real + "/" + pkg + "/" + dram + "/energy_uj", "500000\n");
    t.write(real + "/" + pkg + "/" + dram + "/max_energy_range_uj", "65712999613\n");
    t.link("../../devices/virtual/powercap/intel-rapl/" + pkg, "sys/class/powercap/" + pkg);
    t.link("../../devices/virtual/powercap/intel-rapl/" + pkg + "/" + dram, "sys/class/powercap/" + dram);
  }
  t.link("../../devices/virtual/powercap/intel-rapl", "sys/class/powercap/intel-rapl");
}

std::set<std::string> labels(const RaplDiscovery& d) {
  std::set<std::string> out;
  for (const auto& z : d.zones) out.insert(z.label);
  return out;
}

bool any_contains(const std::vector<std::string>& notes, const std::string& text) {
  for (const auto& n : notes)
    if (n.find(text) != std::string::npos) return true;
  return false;
}
bool any_contains(const std::vector<DiscoveryNote>& notes, const std::string& text) {
  for (const auto& n : notes)
    if (n.text.find(text) != std::string::npos) return true;
  return false;
}

RaplDiscovery rapl_at(const std::string& root) {
  RaplConfig cfg;
  cfg.root = root;
  return find_rapl_zones(cfg);
}

}  // namespace

// Every level a user or a container bind mount gives finds both packages and both nested DRAM
// zones, with a note exactly where the level was not the expected one.
TEST(PowercapRoot, EveryLevelFindsPackagesAndNestedDram) {
  Tree t;
  two_socket_powercap(t);
  const std::set<std::string> all = {"cpu:0", "cpu:1", "dram:0", "dram:1"};
  for (const std::string rel : {"sys/class/powercap", "sys/class/powercap/intel-rapl", "sys/class/powercap/intel-rapl/",
                                "sys/devices/virtual/powercap", "sys/devices/virtual/powercap/intel-rapl"}) {
    RaplDiscovery d = rapl_at(t / rel);
    EXPECT_EQ(labels(d), all) << rel << ": " << d.reason;
    EXPECT_TRUE(d.reason.empty()) << rel;
    EXPECT_FALSE(any_contains(d.notes, "level")) << rel;
  }
  // One level too high: powercap/ inside is read, and the note says so.
  for (const std::string rel : {"sys/class", "sys/devices/virtual"}) {
    RaplDiscovery d = rapl_at(t / rel);
    EXPECT_EQ(labels(d), all) << rel;
    EXPECT_TRUE(any_contains(d.notes, "one level above the powercap folder")) << rel;
  }
}

// The dram zone's counter is read from where it really is, so a meter made from it measures.
TEST(PowercapRoot, NestedDramMeterReadsItsOwnCounter) {
  Tree t;
  two_socket_powercap(t);
  RaplDiscovery d = rapl_at(t / "sys/devices/virtual/powercap/intel-rapl");
  const RaplZone* dram1 = nullptr;
  for (const auto& z : d.zones)
    if (z.label == "dram:1") dram1 = &z;
  ASSERT_NE(dram1, nullptr);
  auto meter = make_rapl_meter(*dram1, real_file_reader());
  meter->open(0.0);
  t.write("sys/devices/virtual/powercap/intel-rapl/intel-rapl:1/intel-rapl:1:0/energy_uj", "2500000\n");
  EXPECT_NEAR(meter->read(1.0).joules, 2.0, 1e-9);
}

// One level too low: a single zone is measured with its subzone, and the note names the parent.
TEST(PowercapRoot, SingleZoneIsMeasuredWithANote) {
  Tree t;
  two_socket_powercap(t);
  RaplDiscovery d = rapl_at(t / "sys/class/powercap/intel-rapl:1");
  EXPECT_EQ(labels(d), (std::set<std::string>{"cpu:1", "dram:1"}));
  EXPECT_TRUE(any_contains(d.notes, "is a single RAPL zone")) << (d.notes.empty() ? "" : d.notes[0].text);
  EXPECT_TRUE(any_contains(d.notes, "give " + (t / "sys/class/powercap")));
}

// Nothing at any level: the reason names the level to give.
TEST(PowercapRoot, WrongFolderIsRefusedNamingTheLevel) {
  Tree t;
  two_socket_powercap(t);
  for (const std::string rel : {"sys", "sys/class/powercap/intel-rapl:0/intel-rapl:0:0/name", "nowhere"}) {
    RaplDiscovery d = rapl_at(t / rel);
    EXPECT_TRUE(d.zones.empty()) << rel;
    EXPECT_NE(d.reason.find("give the folder that holds the intel-rapl:N zones (normally /sys/class/powercap)"),
              std::string::npos)
        << rel << ": " << d.reason;
  }
}

// `devices --fix-permissions` walks the same zones, nested ones included.
TEST(PowercapRoot, FixPermissionsReachesNestedZones) {
  Tree t;
  two_socket_powercap(t);
  auto lines = fix_rapl_permissions(t / "sys/devices/virtual/powercap/intel-rapl");
  EXPECT_EQ(lines.size(), 4u);
  EXPECT_TRUE(any_contains(lines, "intel-rapl:1/intel-rapl:1:0/energy_uj"));
}

namespace {

void amd_card(const Tree& t, const std::string& drm, const std::string& card) {
  t.write(drm + "/" + card + "/device/hwmon/hwmon1/name", "amdgpu\n");
  t.write(drm + "/" + card + "/device/hwmon/hwmon1/energy1_input", "5000000\n");
}

HwmonDiscovery hwmon_at(const std::string& root) {
  HwmonConfig cfg;
  cfg.drm_root = root;
  return find_hwmon_gpus(cfg);
}

}  // namespace

TEST(DrmRoot, ExpectedHigherAndLowerLevels) {
  Tree t;
  amd_card(t, "sys/class/drm", "card0");
  amd_card(t, "sys/class/drm", "card1");
  t.write("sys/class/hwmon/hwmon1/name", "amdgpu\n");
  EXPECT_EQ(hwmon_at(t / "sys/class/drm").gpus.size(), 2u);
  EXPECT_TRUE(hwmon_at(t / "sys/class/drm").notes.empty());

  HwmonDiscovery up = hwmon_at(t / "sys/class");
  EXPECT_EQ(up.gpus.size(), 2u);
  EXPECT_TRUE(any_contains(up.notes, "one level above the drm folder"));

  HwmonDiscovery one = hwmon_at(t / "sys/class/drm/card1");
  ASSERT_EQ(one.gpus.size(), 1u);
  EXPECT_EQ(one.gpus[0].card, "card1");
  EXPECT_TRUE(any_contains(one.notes, "is a single card"));

  HwmonDiscovery hw = hwmon_at(t / "sys/class/hwmon");
  EXPECT_TRUE(hw.gpus.empty());
  EXPECT_NE(hw.reason.find("give the drm folder that holds the cardN entries (normally /sys/class/drm)"),
            std::string::npos)
      << hw.reason;
  HwmonDiscovery none = hwmon_at(t / "sys");
  EXPECT_NE(none.reason.find("give the drm folder"), std::string::npos) << none.reason;
}

namespace {

const char* kSystemStat = "cpu  100 0 100 800 0 0 0 0 0 0\ncpu0 100 0 100 800 0 0 0 0 0 0\n";

void proc_tree(const Tree& t, const std::string& proc) {
  t.write(proc + "/stat", kSystemStat);
  t.write(proc + "/cpuinfo", "processor\t: 0\nmodel name\t: Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz\n");
  t.write(proc + "/meminfo", "MemTotal:       16777216 kB\n");
  t.write(proc + "/1234/stat", "1234 (python) S 1 1234 1234 0 -1 4194560 0 0 0 0 10 5 0 0 20 0 1 0 1 0 0\n");
}

}  // namespace

TEST(ProcRoot, EverySensibleLevelFindsTheProcFolder) {
  Tree t;
  proc_tree(t, "host/proc");
  const std::string proc = t / "host/proc";
  ProcRoot same = locate_proc_root(*real_file_reader(), proc);
  EXPECT_EQ(same.root, proc);
  EXPECT_TRUE(same.note.empty());
  EXPECT_TRUE(same.problem.empty());
  for (const std::string& given : {t / "host", t / "host/proc/stat", t / "host/proc/meminfo", t / "host/proc/1234",
                                  t / "host/proc/"}) {
    ProcRoot r = locate_proc_root(*real_file_reader(), given);
    EXPECT_EQ(r.root, proc) << given;
    EXPECT_TRUE(r.problem.empty()) << given;
    if (given != proc + "/") {
      EXPECT_FALSE(r.note.empty()) << given;
    }
  }
  ProcRoot bad = locate_proc_root(*real_file_reader(), t / "elsewhere");
  EXPECT_EQ(bad.root, t / "elsewhere");
  EXPECT_NE(bad.problem.find("give the proc folder (normally /proc)"), std::string::npos) << bad.problem;
}

// The estimate backend, through the registry, measures from a proc root given one level off.
TEST(ProcRoot, EstimateBackendReadsAProcRootGivenOneLevelHigh) {
  Tree t;
  proc_tree(t, "host/proc");
  Options o;
  o.proc_root = t / "host";
  const BackendRegistry& registry = BackendRegistry::builtin();
  for (const auto& spec : registry.backends()) {
    if (spec.name != "estimate") continue;
    Discovery d = spec.discover(backend_config(spec, o, registry));
    EXPECT_EQ(d.meters.size(), 2u) << d.reason;
    EXPECT_TRUE(any_contains(d.notes, "one level above the proc folder"));
    o.proc_root = t / "elsewhere";
    // Nothing at any level: the estimate says which level to give (in its reason when it found
    // nothing, else beside the meters it could still make).
    Discovery bad = spec.discover(backend_config(spec, o, registry));
    EXPECT_TRUE(bad.reason.find("give the proc folder (normally /proc)") != std::string::npos ||
                any_contains(bad.notes, "give the proc folder (normally /proc)"))
        << bad.reason;
  }
}
