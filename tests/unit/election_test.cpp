// The node election (src/meters/election, docs/cluster.md "Who measures what: the node
// election"). flock(2) locks belong to open file descriptions, so two Claims in one process
// compete as two processes would; the real-process test is tests/cluster/election_kill.sh.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>
#include <string>

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

JobIdentity rank_of(int rank, int local_rank, int local_world, int world, const std::string& node = "n0") {
  JobIdentity j;
  j.job_id = "job";
  j.rank = rank;
  j.local_rank = local_rank;
  j.local_world_size = local_world;
  j.world_size = world;
  j.node = node;
  j.launcher = "options";
  return j;
}

// One process's discovery: a CPU, a DRAM and two GPUs, shared as the job says.
RunDiscovery process(const JobIdentity& job, const std::string& dir, bool by_pid = false) {
  RunDiscovery d;
  d.meters = {meter("rapl:0", Component::cpu, 40), meter("rapl:0:dram", Component::dram, 5),
              meter("nvml:0", Component::gpu, 100, "GPU-a"), meter("nvml:1", Component::gpu, 200, "GPU-b")};
  meters::JobSharing s;
  s.job = job;
  s.runtime_dir = dir;
  s.devices_by_pid = by_pid;
  meters::share_meters_in_job(d, s);
  return d;
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
  // Two GPUs for two ranks: each keeps its own.
  ASSERT_EQ(r0.meters.size(), 3u);
  ASSERT_EQ(r1.meters.size(), 3u);
  EXPECT_EQ(r0.meters[2]->info().id, "nvml:0");
  EXPECT_EQ(r1.meters[2]->info().id, "nvml:1");
  EXPECT_EQ(r0.meters[0]->info().shared, "node");
  EXPECT_EQ(r0.meters[2]->info().shared, "device");
  EXPECT_EQ(r0.meters[0]->info().claim, "job/-/n0/node");
  EXPECT_EQ(r0.meters[2]->info().claim, "job/-/n0/gpu:GPU-a");
  for (auto* d : {&r0, &r1})
    for (const auto& m : d->meters) m->open(0);
  // Rank 0 came first: it counts the node; rank 1 reads 0 J for it, and each counts its GPU.
  EXPECT_DOUBLE_EQ(energy(r0.meters[0], 10), 400);
  EXPECT_DOUBLE_EQ(energy(r0.meters[1], 10), 50);
  EXPECT_DOUBLE_EQ(energy(r1.meters[0], 10), 0);
  EXPECT_DOUBLE_EQ(energy(r1.meters[1], 10), 0);
  EXPECT_DOUBLE_EQ(energy(r0.meters[2], 10), 1000);
  EXPECT_DOUBLE_EQ(energy(r1.meters[2], 10), 2000);
  EXPECT_TRUE(r0.coverage_warnings.empty());
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
  EXPECT_EQ(meters::claim_file_name("job/-/n0/node").find('/'), std::string::npos);
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
