// The node election (src/meters/election, docs/cluster.md "Who measures what: the node
// election"). flock(2) locks belong to open file descriptions, so two Claims in one process
// compete as two processes would; the real-process test is tests/cluster/election_kill.sh.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <map>
#include <memory>
#include <sstream>
#include <string>

#include "core/linear_meter.hpp"
#include "epochwatt/tracker.hpp"
#include "meters/election/election.hpp"
#include "unit/support.hpp"

namespace {

using namespace epochwatt;
using ewtest::ScriptedMeter;

std::shared_ptr<Meter> meter(const std::string& id, Component c, double watts, const std::string& uuid = "") {
  auto m = std::make_shared<ScriptedMeter>(id, c, id, watts);
  if (!uuid.empty()) const_cast<MeterInfo&>(m->info()).hardware_id = uuid;
  return m;
}

JobIdentity rank_of(int rank, int local_rank, int local_world, int world, const std::string& node = "n0",
                    const std::string& step = "") {
  JobIdentity j;
  j.job_id = "job";
  j.step_id = step;
  j.rank = rank;
  j.local_rank = local_rank;
  j.local_world_size = local_world;
  j.world_size = world;
  j.node = node;
  j.launcher = "options";
  return j;
}

// One process's discovery: a CPU, a DRAM and two GPUs, shared as the job says.
// Another local rank's GPU is first claimed this many seconds after open() in these tests
// (EPOCHWATT_GPU_CLAIM_DELAY_S through JobSharing::env).
constexpr double kDelayS = 3.0;

RunDiscovery process(const JobIdentity& job, const std::string& dir, bool by_pid = false, const std::string& delay = "3") {
  RunDiscovery d;
  d.meters = {meter("rapl:0", Component::cpu, 40), meter("rapl:0:dram", Component::dram, 5),
              meter("nvml:0", Component::gpu, 100, "GPU-a"), meter("nvml:1", Component::gpu, 200, "GPU-b")};
  meters::JobSharing s;
  s.job = job;
  s.runtime_dir = dir;
  s.devices_by_pid = by_pid;
  s.env = [delay](std::string_view n) -> std::optional<std::string> {
    if (n == "EPOCHWATT_GPU_CLAIM_DELAY_S") return delay;
    return std::nullopt;
  };
  meters::share_meters_in_job(d, s);
  return d;
}

bool counting(const std::shared_ptr<Meter>& m) {
  auto e = std::dynamic_pointer_cast<meters::ElectedMeter>(m);
  return e && e->counting();
}

double energy(const std::shared_ptr<Meter>& m, double t) { return m->read(t).joules; }

TEST(Election, DefaultFolderFollowsTheDocumentedOrder) {
  auto env = [](std::map<std::string, std::string> vars) {
    return [vars](std::string_view n) -> std::optional<std::string> {
      auto it = vars.find(std::string(n));
      if (it == vars.end()) return std::nullopt;
      return it->second;
    };
  };
  EXPECT_EQ(meters::election_dir("/given", env({{"EPOCHWATT_RUNTIME_DIR", "/e"}})), "/given");
  EXPECT_EQ(meters::election_dir("", env({{"EPOCHWATT_RUNTIME_DIR", "/e"}, {"XDG_RUNTIME_DIR", "/run/user/1"}})), "/e");
  EXPECT_EQ(meters::election_dir("", env({{"XDG_RUNTIME_DIR", "/run/user/1"}})), "/run/user/1/epochwatt");
  EXPECT_EQ(meters::election_dir("", env({})), "/tmp/epochwatt-" + std::to_string(::getuid()));
}

TEST(Election, ASingleProcessIsLeftAsItIs) {
  ewtest::TempDir dir;
  RunDiscovery d = process(rank_of(0, 0, 1, 1), dir.str());
  ASSERT_EQ(d.meters.size(), 4u);
  for (const auto& m : d.meters) EXPECT_TRUE(m->info().shared.empty());
  EXPECT_TRUE(d.coverage_warnings.empty());
}

TEST(Election, EachRankMeasuresItsLocalGpuAndOneRankTheNode) {
  ewtest::TempDir dir;
  RunDiscovery r0 = process(rank_of(0, 0, 2, 4), dir.str());
  RunDiscovery r1 = process(rank_of(1, 1, 2, 4), dir.str());
  // Two GPUs for two ranks: each keeps both, its own claimed at once, the other's after the delay.
  ASSERT_EQ(r0.meters.size(), 4u);
  ASSERT_EQ(r1.meters.size(), 4u);
  EXPECT_EQ(r0.meters[2]->info().id, "nvml:0");
  EXPECT_EQ(r1.meters[3]->info().id, "nvml:1");
  EXPECT_EQ(r0.meters[0]->info().shared, "node");
  EXPECT_EQ(r0.meters[2]->info().shared, "device");
  EXPECT_EQ(r0.meters[0]->info().claim, "job/n0/node");
  EXPECT_EQ(r0.meters[2]->info().claim, "job/n0/gpu:GPU-a");
  for (auto* d : {&r0, &r1})
    for (const auto& m : d->meters) m->open(0);
  // Rank 0 came first: it counts the node; rank 1 reads 0 J for it, and each counts exactly its
  // own GPU, before and after the other's first try.
  for (double t : {1.0, kDelayS, kDelayS + 1, 10.0})
    for (auto* d : {&r0, &r1})
      for (const auto& m : d->meters) m->read(t);
  EXPECT_DOUBLE_EQ(energy(r0.meters[0], 20), 800);
  EXPECT_DOUBLE_EQ(energy(r0.meters[1], 20), 100);
  EXPECT_DOUBLE_EQ(energy(r1.meters[0], 20), 0);
  EXPECT_DOUBLE_EQ(energy(r1.meters[1], 20), 0);
  EXPECT_DOUBLE_EQ(energy(r0.meters[2], 20), 2000);
  EXPECT_DOUBLE_EQ(energy(r0.meters[3], 20), 0);
  EXPECT_DOUBLE_EQ(energy(r1.meters[2], 20), 0);
  EXPECT_DOUBLE_EQ(energy(r1.meters[3], 20), 4000);
  EXPECT_TRUE(r0.coverage_warnings.empty());
}

TEST(Election, ARankTrackingAloneMeasuresEveryGpuAfterTheDelay) {
  ewtest::TempDir dir;
  // `if rank == 0:` tracking: rank 0 of two on the node is the only process of the job here.
  RunDiscovery r0 = process(rank_of(0, 0, 2, 2), dir.str());
  ASSERT_EQ(r0.meters.size(), 4u);
  for (const auto& m : r0.meters) m->open(0);
  EXPECT_DOUBLE_EQ(energy(r0.meters[2], 1), 100);
  EXPECT_DOUBLE_EQ(energy(r0.meters[3], 1), 0);  // local rank 1's: not tried yet
  EXPECT_FALSE(counting(r0.meters[3]));
  EXPECT_DOUBLE_EQ(energy(r0.meters[3], kDelayS), 0);  // taken now, counted from now
  EXPECT_TRUE(counting(r0.meters[3]));
  EXPECT_DOUBLE_EQ(energy(r0.meters[3], kDelayS + 10), 200 * 10);
}

TEST(Election, ADeadRanksGpuIsTakenOverByAnother) {
  ewtest::TempDir dir;
  RunDiscovery r0 = process(rank_of(0, 0, 2, 2), dir.str());
  auto r1 = std::make_unique<RunDiscovery>(process(rank_of(1, 1, 2, 2), dir.str()));
  ASSERT_EQ(r0.meters.size(), 4u);
  ASSERT_EQ(r1->meters.size(), 4u);
  for (const auto& m : r0.meters) m->open(0);
  for (const auto& m : r1->meters) m->open(0);
  EXPECT_DOUBLE_EQ(energy(r0.meters[3], kDelayS + 1), 0);  // tried: rank 1 holds it
  EXPECT_DOUBLE_EQ(energy(r1->meters[3], kDelayS + 1), 200 * (kDelayS + 1));
  r1.reset();  // dies: its claims go with its file descriptors
  double t = kDelayS + 1 + meters::kClaimRetryS;
  EXPECT_DOUBLE_EQ(energy(r0.meters[3], t), 0);
  EXPECT_TRUE(counting(r0.meters[3]));
  EXPECT_DOUBLE_EQ(energy(r0.meters[3], t + 5), 200 * 5);
}

TEST(Election, AMalformedDelayIsWarnedAboutAndTheDefaultUsed) {
  ewtest::TempDir dir;
  RunDiscovery r0 = process(rank_of(0, 0, 2, 2), dir.str(), false, "soon");
  ASSERT_EQ(r0.coverage_warnings.size(), 1u);
  EXPECT_NE(r0.coverage_warnings[0].find("EPOCHWATT_GPU_CLAIM_DELAY_S"), std::string::npos);
  for (const auto& m : r0.meters) m->open(0);
  EXPECT_DOUBLE_EQ(energy(r0.meters[3], meters::kForeignGpuClaimDelayS - 0.5), 0);
  EXPECT_FALSE(counting(r0.meters[3]));
  energy(r0.meters[3], meters::kForeignGpuClaimDelayS);
  EXPECT_TRUE(counting(r0.meters[3]));
}

TEST(Election, StepsOfOneJobShareTheNodesLeader) {
  ewtest::TempDir dir;
  // Two concurrent SLURM steps of one job on one node: one leader, so `sum by (job)` counts the
  // node once.
  RunDiscovery a = process(rank_of(0, 0, 2, 2, "n0", "0"), dir.str());
  RunDiscovery b = process(rank_of(0, 0, 2, 2, "n0", "1"), dir.str());
  for (auto* d : {&a, &b})
    for (const auto& m : d->meters) m->open(0);
  EXPECT_DOUBLE_EQ(energy(a.meters[0], 10) + energy(b.meters[0], 10), 400);
  EXPECT_DOUBLE_EQ(energy(a.meters[2], 10) + energy(b.meters[2], 10), 1000);
}

TEST(Election, ClosingTheLeadersMetersHandsTheClaimOver) {
  ewtest::TempDir dir;
  RunDiscovery leader = process(rank_of(0, 0, 2, 2), dir.str());
  RunDiscovery follower = process(rank_of(1, 1, 2, 2), dir.str());
  for (auto* d : {&leader, &follower})
    for (const auto& m : d->meters) m->open(0);
  EXPECT_DOUBLE_EQ(energy(follower.meters[0], 5), 0);
  for (const auto& m : leader.meters) detail::close_if_marked(m, 5);  // the leader's tracker stops
  double t = 5 + meters::kClaimRetryS;
  energy(follower.meters[0], t);
  EXPECT_TRUE(counting(follower.meters[0]));
  EXPECT_DOUBLE_EQ(energy(follower.meters[0], t + 10), 40 * 10);
  EXPECT_FALSE(counting(leader.meters[0]));
}

TEST(Election, ATrackersStopLetsItsClaimsGoWhileItLives) {
  ewtest::TempDir dir;
  RunDiscovery leader = process(rank_of(0, 0, 2, 2), dir.str());
  TrackerParts parts;
  parts.meters = leader.meters;
  leader.meters.clear();
  std::ostringstream console;
  Options o;
  o.epochs = 1;
  o.console = &console;
  o.log_dir = "";
  Tracker tracker(o, parts);
  auto node = std::make_shared<meters::Claim>(dir.str(), "job/n0/node", "test");
  auto gpu = std::make_shared<meters::Claim>(dir.str(), "job/n0/gpu:GPU-a", "test");
  EXPECT_FALSE(node->try_take());
  EXPECT_FALSE(gpu->try_take());
  tracker.stop();  // the tracker object lives on, its claims are free
  EXPECT_TRUE(node->try_take());
  EXPECT_TRUE(gpu->try_take());
}

// A meter whose open() fails, as a GPU that this process cannot open.
class Unopenable final : public Meter {
 public:
  Unopenable() { info_.id = "nvml:9"; info_.component = Component::gpu; info_.hardware_id = "GPU-z"; }
  const MeterInfo& info() const override { return info_; }
  void open(double) override { throw std::runtime_error("nvmlDeviceGetHandleByIndex failed"); }
  MeterReading read(double) override { return {}; }

 private:
  MeterInfo info_;
};

TEST(Election, AMeterThatCannotOpenLetsItsClaimGo) {
  ewtest::TempDir dir;
  auto claim = std::make_shared<meters::Claim>(dir.str(), "job/n0/gpu:GPU-z", "rank 0");
  auto m = meters::make_elected_meter(std::make_shared<Unopenable>(), claim, "device");
  m->open(0);
  MeterReading r = m->read(1);
  EXPECT_TRUE(r.lost);
  EXPECT_NE(r.error.find("nvmlDeviceGetHandleByIndex failed"), std::string::npos) << r.error;
  EXPECT_FALSE(claim->held());
  meters::Claim other(dir.str(), "job/n0/gpu:GPU-z", "rank 1");
  EXPECT_TRUE(other.try_take());
}

TEST(Election, ALostMeterLetsItsClaimGo) {
  ewtest::TempDir dir;
  auto inner = std::make_shared<ScriptedMeter>("nvml:0", Component::gpu, "gpu", 100);
  inner->lost_from(5);
  auto claim = std::make_shared<meters::Claim>(dir.str(), "job/n0/gpu:GPU-a", "rank 0");
  auto m = meters::make_elected_meter(inner, claim, "device");
  m->open(0);
  EXPECT_DOUBLE_EQ(energy(m, 2), 200);
  EXPECT_TRUE(claim->held());
  MeterReading r = m->read(6);
  EXPECT_TRUE(r.lost);
  EXPECT_FALSE(claim->held());
  meters::Claim other(dir.str(), "job/n0/gpu:GPU-a", "rank 1");
  EXPECT_TRUE(other.try_take());
}

// A lost meter that shares its claim with another meter of this process (the node claim of RAPL
// and DRAM) does not let it go, and its message says so instead of promising a take-over.
TEST(Election, ALostMeterOnASharedClaimSaysTheClaimStays) {
  ewtest::TempDir dir;
  auto lost = std::make_shared<ScriptedMeter>("rapl:0", Component::cpu, "cpu", 100);
  lost->lost_from(5);
  auto kept = std::make_shared<ScriptedMeter>("rapl:0:0", Component::dram, "dram", 10);
  auto claim = std::make_shared<meters::Claim>(dir.str(), "job/n0/node", "rank 0");
  auto a = meters::make_elected_meter(lost, claim, "node");
  auto b = meters::make_elected_meter(kept, claim, "node");
  a->open(0);
  b->open(0);
  MeterReading r = a->read(6);
  EXPECT_TRUE(r.lost);
  EXPECT_TRUE(claim->held());
  EXPECT_NE(r.error.find("its claim stays with this process's other meters"), std::string::npos) << r.error;
  EXPECT_EQ(r.error.find("let go for another process"), std::string::npos) << r.error;
  EXPECT_DOUBLE_EQ(energy(b, 6), 60);
}

// Meters with the marks of core/linear_meter.hpp.
class CumulativeMeter final : public Meter, public detail::CumulativeBetweenReads {
 public:
  explicit CumulativeMeter(Component c) { info_.id = "rapl:0"; info_.component = c; }
  const MeterInfo& info() const override { return info_; }
  void open(double) override {}
  MeterReading read(double t) override { return {t, true, false, ""}; }
  double longest_period_s() const override { return 262.0; }

 private:
  MeterInfo info_;
};

class LinearMeter final : public Meter, public detail::LinearBetweenReads {
 public:
  LinearMeter() { info_.id = "estimate:dram"; info_.component = Component::dram; }
  const MeterInfo& info() const override { return info_; }
  void open(double) override {}
  MeterReading read(double t) override { return {t, true, false, ""}; }

 private:
  MeterInfo info_;
};

TEST(Election, ElectedMetersKeepTheInnerMetersCumulativeMarkOnly) {
  ewtest::TempDir dir;
  RunDiscovery d;
  d.meters = {std::make_shared<CumulativeMeter>(Component::cpu), std::make_shared<LinearMeter>(),
              meter("sim:cpu", Component::cpu, 10)};
  meters::JobSharing s;
  s.job = rank_of(0, 0, 2, 2);
  s.runtime_dir = dir.str();
  meters::share_meters_in_job(d, s);
  ASSERT_EQ(d.meters.size(), 3u);
  for (const auto& m : d.meters) EXPECT_EQ(m->info().shared, "node");
  EXPECT_DOUBLE_EQ(detail::cumulative_longest_period_s(d.meters[0]), 262.0);
  EXPECT_FALSE(detail::linear_between_reads(d.meters[0]));
  // Not the linear mark: it would make a follower try the claim only every 60 s (kDramPollS).
  EXPECT_FALSE(detail::linear_between_reads(d.meters[1]));
  EXPECT_DOUBLE_EQ(detail::cumulative_longest_period_s(d.meters[1]), 0.0);
  EXPECT_FALSE(detail::linear_between_reads(d.meters[2]));  // unmarked stays unmarked
  EXPECT_DOUBLE_EQ(detail::cumulative_longest_period_s(d.meters[2]), 0.0);
}

TEST(Election, ANodeOfItsOwnHasItsOwnLeader) {
  ewtest::TempDir dir;
  RunDiscovery a = process(rank_of(0, 0, 2, 4, "n0"), dir.str());
  RunDiscovery b = process(rank_of(2, 0, 2, 4, "n1"), dir.str());
  for (auto* d : {&a, &b})
    for (const auto& m : d->meters) m->open(0);
  EXPECT_DOUBLE_EQ(energy(a.meters[0], 1), 40);
  EXPECT_DOUBLE_EQ(energy(b.meters[0], 1), 40);
}

TEST(Election, AFollowerTakesOverWhenTheLeaderGoesAndCountsFromThen) {
  ewtest::TempDir dir;
  auto leader = std::make_unique<RunDiscovery>(process(rank_of(0, 0, 2, 2), dir.str()));
  RunDiscovery follower = process(rank_of(1, 1, 2, 2), dir.str());
  for (const auto& m : leader->meters) m->open(0);
  for (const auto& m : follower.meters) m->open(0);
  EXPECT_DOUBLE_EQ(energy(follower.meters[0], 5), 0);
  leader.reset();  // its claims go with its file descriptors, as with a process that dies
  // Within one retry period the follower holds the claim; the CPU and DRAM, read in the same
  // round as the sampler reads them, start together.
  double t = 5 + meters::kClaimRetryS;
  EXPECT_DOUBLE_EQ(energy(follower.meters[0], t), 0);
  EXPECT_DOUBLE_EQ(energy(follower.meters[1], t), 0);
  EXPECT_TRUE(std::dynamic_pointer_cast<meters::ElectedMeter>(follower.meters[0])->counting());
  EXPECT_TRUE(std::dynamic_pointer_cast<meters::ElectedMeter>(follower.meters[1])->counting());
  EXPECT_DOUBLE_EQ(energy(follower.meters[0], t + 10), 40 * 10);
  EXPECT_DOUBLE_EQ(energy(follower.meters[1], t + 10), 5 * 10);
}

TEST(Election, MoreGpusThanRanksAreClaimedOneByOne) {
  ewtest::TempDir dir;
  // One process on the node as far as the launcher says, but two of the job here (torch's env://).
  RunDiscovery a = process(rank_of(0, 0, 1, 2), dir.str());
  RunDiscovery b = process(rank_of(1, 0, 1, 2), dir.str());
  ASSERT_EQ(a.meters.size(), 4u);
  ASSERT_EQ(b.meters.size(), 4u);
  for (auto* d : {&a, &b})
    for (const auto& m : d->meters) m->open(0);
  double gpus = 0;
  for (auto* d : {&a, &b})
    for (std::size_t i = 2; i < 4; ++i) gpus += energy(d->meters[i], 1);
  EXPECT_DOUBLE_EQ(gpus, 300);  // each GPU once
}

TEST(Election, DevicesByPidLeavesGpusToTheirProcesses) {
  ewtest::TempDir dir;
  RunDiscovery a = process(rank_of(0, 0, 2, 2), dir.str(), true);
  ASSERT_EQ(a.meters.size(), 4u);
  EXPECT_TRUE(a.meters[2]->info().shared.empty());
  EXPECT_EQ(a.meters[0]->info().shared, "node");
}

TEST(Election, AFolderThatCannotHoldClaimsIsWarnedAboutAndEverythingMeasured) {
  ewtest::TempDir dir;
  std::string file = dir.str() + "/not-a-folder";
  ewtest::write_file(file, "x");
  RunDiscovery a = process(rank_of(0, 0, 2, 2), file);
  RunDiscovery b = process(rank_of(1, 1, 2, 2), file);
  ASSERT_EQ(a.coverage_warnings.size(), 1u);
  EXPECT_NE(a.coverage_warnings[0].find("more than once"), std::string::npos) << a.coverage_warnings[0];
  EXPECT_EQ(a.coverage_warnings[0].find('\n'), std::string::npos);
  for (const auto& m : b.meters) m->open(0);
  EXPECT_DOUBLE_EQ(energy(b.meters[0], 1), 40);  // measured anyway
  // Each rank measures its own GPU unclaimed; the other's is left to it, not counted twice.
  ASSERT_EQ(a.meters.size(), 3u);
  ASSERT_EQ(b.meters.size(), 3u);
  EXPECT_EQ(a.meters[2]->info().id, "nvml:0");
  EXPECT_EQ(b.meters[2]->info().id, "nvml:1");
  EXPECT_NE(a.coverage_warnings[0].find("nvml:1) are left to them"), std::string::npos) << a.coverage_warnings[0];
}

TEST(Election, AForeignFolderUnderTmpIsRefused) {
  std::string dir = "/tmp/epochwatt-election-test-" + std::to_string(::getpid());
  ASSERT_EQ(::mkdir(dir.c_str(), 0777), 0);
  ::chmod(dir.c_str(), 0777);
  EXPECT_NE(meters::prepare_election_dir(dir).find("writable by other users"), std::string::npos);
  ::chmod(dir.c_str(), 0700);
  EXPECT_EQ(meters::prepare_election_dir(dir), "");
  ::rmdir(dir.c_str());
}

TEST(Election, ClaimFileNamesAreDistinctAndReadable) {
  EXPECT_NE(meters::claim_file_name("a/b"), meters::claim_file_name("a_b"));
  EXPECT_EQ(meters::claim_file_name("job/n0/node").find('/'), std::string::npos);
}

TEST(Election, ANoteSaysWhoHoldsTheNode) {
  ewtest::TempDir dir;
  RunDiscovery a = process(rank_of(0, 0, 2, 2), dir.str());
  RunDiscovery b = process(rank_of(1, 1, 2, 2), dir.str());
  bool said = false;
  for (const auto& n : b.notes)
    if (n.text.find("Node-wide meters") != std::string::npos) {
      said = true;
      EXPECT_NE(n.text.find("rank 0"), std::string::npos) << n.text;
    }
  EXPECT_TRUE(said);
}

}  // namespace
