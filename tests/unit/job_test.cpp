// detect_job(): a process's place in its job from the launcher's environment and the options
// (include/epochwatt/job.hpp, docs/cluster.md "Identity: rank, node, job").
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "epochwatt/errors.hpp"
#include "epochwatt/job.hpp"
#include "epochwatt/options.hpp"
#include "unit/support.hpp"

namespace {

using namespace epochwatt;
using Env = std::map<std::string, std::string>;

EnvLookup env_of(const Env& vars) {
  return [vars](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(std::string(name));
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

JobIdentity detect(const Env& vars, Options o = {}) { return detect_job(o, env_of(vars)); }

// torchrun --nproc_per_node=4 --nnodes=2: the variables it sets (torch 1.13 and 2.x).
const Env kTorchrun = {{"RANK", "5"},        {"LOCAL_RANK", "1"},          {"WORLD_SIZE", "8"},
                       {"LOCAL_WORLD_SIZE", "4"}, {"GROUP_RANK", "1"},     {"TORCHELASTIC_RUN_ID", "abc"},
                       {"MASTER_ADDR", "n0"},    {"MASTER_PORT", "29500"}};
// mpirun -np 4 on two nodes (OpenMPI 4.1.4's variables).
const Env kOpenMpi = {{"OMPI_COMM_WORLD_RANK", "3"},       {"OMPI_COMM_WORLD_SIZE", "4"},
                      {"OMPI_COMM_WORLD_LOCAL_RANK", "1"}, {"OMPI_COMM_WORLD_LOCAL_SIZE", "2"},
                      {"OMPI_COMM_WORLD_NODE_RANK", "1"},  {"OMPI_MCA_ess_base_jobid", "2431647745"}};
// srun -N 2 -n 4.
const Env kSlurm = {{"SLURM_JOB_ID", "4242"}, {"SLURM_STEP_ID", "0"},  {"SLURM_PROCID", "2"},
                    {"SLURM_LOCALID", "0"},   {"SLURM_NODEID", "1"},   {"SLURM_NTASKS", "4"},
                    {"SLURM_TASKS_PER_NODE", "2(x2)"}, {"SLURM_NTASKS_PER_NODE", "2"}};

Env merge(Env a, const Env& b) {
  for (const auto& [k, v] : b) a[k] = v;
  return a;
}

TEST(DetectJob, NoLauncherIsOneProcessNamedByTheHost) {
  JobIdentity id = detect({});
  EXPECT_EQ(id.launcher, "none");
  EXPECT_EQ(id.world_size, 1);
  EXPECT_FALSE(id.multi_process());
  EXPECT_FALSE(id.node.empty());
  EXPECT_TRUE(id.warnings.empty());
}

TEST(DetectJob, TorchrunGivesRanksNodeRankAndItsRunId) {
  JobIdentity id = detect(kTorchrun);
  EXPECT_EQ(id.launcher, "torchrun");
  EXPECT_EQ(id.rank, 5);
  EXPECT_EQ(id.local_rank, 1);
  EXPECT_EQ(id.world_size, 8);
  EXPECT_EQ(id.local_world_size, 4);
  EXPECT_EQ(id.node_rank, 1);
  EXPECT_EQ(id.job_id, "torchrun-abc");
  EXPECT_TRUE(id.warnings.empty());
}

TEST(DetectJob, TorchrunsDefaultRunIdNoneFallsBackToTheMasterAddress) {
  JobIdentity id = detect(merge(kTorchrun, {{"TORCHELASTIC_RUN_ID", "none"}}));
  EXPECT_EQ(id.job_id, "torch-n0:29500");
}

TEST(DetectJob, OpenMpiGivesRanksAndItsJobIdButNotANodeIndex) {
  JobIdentity id = detect(kOpenMpi);
  EXPECT_EQ(id.launcher, "openmpi");
  EXPECT_EQ(id.rank, 3);
  EXPECT_EQ(id.local_rank, 1);
  EXPECT_EQ(id.world_size, 4);
  EXPECT_EQ(id.local_world_size, 2);
  EXPECT_EQ(id.node_rank, -1);  // OMPI_COMM_WORLD_NODE_RANK is a rank on the node, not the node's index
  EXPECT_EQ(id.job_id, "openmpi-2431647745");
}

TEST(DetectJob, SlurmGivesRanksStepAndNode) {
  JobIdentity id = detect(kSlurm);
  EXPECT_EQ(id.launcher, "slurm");
  EXPECT_EQ(id.rank, 2);
  EXPECT_EQ(id.local_rank, 0);
  EXPECT_EQ(id.world_size, 4);
  EXPECT_EQ(id.local_world_size, 2);
  EXPECT_EQ(id.node_rank, 1);
  EXPECT_EQ(id.job_id, "slurm-4242");
  EXPECT_EQ(id.step_id, "0");
}

TEST(DetectJob, SlurmsTasksPerNodeIsReadWhenItIsOneNumber) {
  Env e = kSlurm;
  e.erase("SLURM_NTASKS_PER_NODE");
  EXPECT_EQ(detect(merge(e, {{"SLURM_TASKS_PER_NODE", "2"}})).local_world_size, 2);
  // "2(x2)" names no single figure: unknown, one process on the node as far as the GPU choice goes.
  EXPECT_EQ(detect(e).local_world_size, 1);
  EXPECT_TRUE(detect(e).warnings.empty());
}

TEST(DetectJob, SrunTorchrunTakesTorchrunsRanksAndSlurmsJobId) {
  JobIdentity id = detect(merge(kSlurm, kTorchrun));
  EXPECT_EQ(id.launcher, "torchrun");
  EXPECT_EQ(id.rank, 5);
  EXPECT_EQ(id.world_size, 8);
  EXPECT_EQ(id.job_id, "slurm-4242");
  EXPECT_EQ(id.step_id, "0");
}

TEST(DetectJob, MpirunInsideAnAllocationTakesOpenMpisRanks) {
  // An sbatch script's variables (SLURM_PROCID 0 of 1 task) and mpirun's.
  Env batch = {{"SLURM_JOB_ID", "77"}, {"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "1"}, {"SLURM_LOCALID", "0"}};
  JobIdentity id = detect(merge(batch, kOpenMpi));
  EXPECT_EQ(id.launcher, "openmpi");
  EXPECT_EQ(id.rank, 3);
  EXPECT_EQ(id.world_size, 4);
  EXPECT_EQ(id.job_id, "slurm-77");
}

TEST(DetectJob, EpochwattVariablesNameTheJobAndTheNode) {
  JobIdentity id = detect(merge(kOpenMpi, {{"EPOCHWATT_JOB_ID", "mine"}, {"EPOCHWATT_NODE", "node-b"}}));
  EXPECT_EQ(id.job_id, "mine");
  EXPECT_EQ(id.node, "node-b");
}

TEST(DetectJob, OptionsWinFieldByField) {
  Options o;
  o.job_id = "given";
  o.node = "n9";
  o.local_rank = 0;
  JobIdentity id = detect(merge(kOpenMpi, {{"EPOCHWATT_NODE", "node-b"}}), o);
  EXPECT_EQ(id.launcher, "openmpi");  // the rest still comes from the environment
  EXPECT_EQ(id.rank, 3);
  EXPECT_EQ(id.local_rank, 0);
  EXPECT_EQ(id.job_id, "given");
  EXPECT_EQ(id.node, "n9");
}

TEST(DetectJob, OptionsAloneDescribeAJob) {
  Options o;
  o.rank = 1;
  o.world_size = 2;
  o.local_world_size = 2;
  o.local_rank = 1;
  JobIdentity id = detect({}, o);
  EXPECT_EQ(id.launcher, "options");
  EXPECT_TRUE(id.multi_process());
}

TEST(DetectJob, ContradictoryOptionsAreRefused) {
  Options o;
  o.rank = 4;
  o.world_size = 4;
  EXPECT_THROW(detect({}, o), OptionsError);
  Options p;
  p.rank = 7;  // beyond the environment's world of 4
  EXPECT_THROW(detect(kOpenMpi, p), OptionsError);
}

TEST(DetectJob, IndependentIgnoresEveryLauncher) {
  Options o;
  o.independent = true;
  JobIdentity id = detect(merge(merge(kSlurm, kOpenMpi), kTorchrun), o);
  EXPECT_EQ(id.launcher, "none");
  EXPECT_EQ(id.world_size, 1);
  EXPECT_EQ(id.rank, 0);
  EXPECT_TRUE(id.job_id.empty());
}

// A malformed variable never throws: that launcher's variables are ignored with one line, and the
// next launcher describes the process.
TEST(DetectJob, AMalformedVariableIsWarnedAboutAndTheNextLauncherUsed) {
  JobIdentity id = detect(merge(merge(kSlurm, kTorchrun), {{"RANK", "five"}}));
  EXPECT_EQ(id.launcher, "slurm");
  EXPECT_EQ(id.rank, 2);
  ASSERT_EQ(id.warnings.size(), 1u);
  EXPECT_NE(id.warnings[0].find("RANK='five' is not a whole number"), std::string::npos) << id.warnings[0];
  EXPECT_EQ(id.warnings[0].find('\n'), std::string::npos);
}

TEST(DetectJob, MalformedOrContradictoryValuesLeaveASingleProcess) {
  for (const Env& bad : {Env{{"OMPI_COMM_WORLD_RANK", "-1"}, {"OMPI_COMM_WORLD_SIZE", "4"}},
                         Env{{"OMPI_COMM_WORLD_RANK", "4"}, {"OMPI_COMM_WORLD_SIZE", "4"}},
                         Env{{"OMPI_COMM_WORLD_RANK", "1"}, {"OMPI_COMM_WORLD_SIZE", "0"}},
                         Env{{"OMPI_COMM_WORLD_RANK", "1"}, {"OMPI_COMM_WORLD_SIZE", "4x"}},
                         Env{{"OMPI_COMM_WORLD_RANK", "1"}, {"OMPI_COMM_WORLD_SIZE", "99999999999999999999"}},
                         Env{{"RANK", ""}, {"WORLD_SIZE", "2"}},
                         Env{{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"LOCAL_RANK", "3"}, {"LOCAL_WORLD_SIZE", "2"}},
                         Env{{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"LOCAL_WORLD_SIZE", "3"}},
                         Env{{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "two"}}}) {
    JobIdentity id;
    ASSERT_NO_THROW(id = detect(bad));
    EXPECT_EQ(id.world_size, 1);
    EXPECT_EQ(id.launcher, "none");
    EXPECT_EQ(id.warnings.size(), 1u);
  }
}

TEST(DetectJob, TorchsEnvConventionWithoutLocalFiguresIsOneProcessPerNodeForTheGpuChoice) {
  JobIdentity id = detect({{"RANK", "1"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}, {"MASTER_PORT", "1"}});
  EXPECT_EQ(id.launcher, "torchrun");
  EXPECT_EQ(id.rank, 1);
  EXPECT_EQ(id.local_rank, 0);
  EXPECT_EQ(id.local_world_size, 1);
  EXPECT_EQ(id.job_id, "torch-h:1");
}

// Review of issue 14, fault 10: the ranks of one job must name the same job in every record, also
// when the options gave their ranks (torch.multiprocessing.spawn, --rank/--world-size) and no
// launcher says who they are, and with other OpenMPI and SLURM versions than Debian 12's.
TEST(DetectJob, RanksGivenByTheOptionsStillTakeTheLaunchersJobId) {
  for (const auto& [env, want] : std::vector<std::pair<Env, std::string>>{
           {{{"MASTER_ADDR", "10.0.0.1"}, {"MASTER_PORT", "29500"}}, "torch-10.0.0.1:29500"},
           {{{"SLURM_JOB_ID", "77"}}, "slurm-77"},
           {{{"PMIX_NAMESPACE", "prterun-vm-4242@1"}}, "openmpi-prterun-vm-4242@1"}}) {
    std::vector<std::string> ids;
    for (int rank : {0, 1}) {
      Options o;
      o.rank = rank;
      o.world_size = 2;
      JobIdentity id = detect(env, o);
      EXPECT_EQ(id.launcher, "options");
      EXPECT_TRUE(id.warnings.empty()) << id.warnings.front();
      ids.push_back(id.job_id);
    }
    EXPECT_EQ(ids, (std::vector<std::string>{want, want}));
  }
}

TEST(DetectJob, OlderAndNewerLaunchersJobIds) {
  const Env ranks = {{"OMPI_COMM_WORLD_RANK", "1"}, {"OMPI_COMM_WORLD_SIZE", "2"}};
  EXPECT_EQ(detect(merge(ranks, {{"OMPI_MCA_orte_ess_jobid", "3236233217"}})).job_id, "openmpi-3236233217");  // 1.x-3.x
  EXPECT_EQ(detect(merge(ranks, {{"PMIX_NAMESPACE", "prterun-vm-1@1"}})).job_id, "openmpi-prterun-vm-1@1");   // 5.x
  EXPECT_EQ(detect({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "2"}, {"SLURM_JOBID", "9"}}).job_id, "slurm-9");
}

TEST(DetectJob, AJobOfManyWithoutAnyIdSaysSoAndALoneProcessDoesNot) {
  Options o;
  o.rank = 1;
  o.world_size = 2;
  JobIdentity id = detect({}, o);
  EXPECT_EQ(id.job_id, "");
  ASSERT_EQ(id.warnings.size(), 1u);
  EXPECT_NE(id.warnings[0].find("rank 1 of 2 has no job id (give --job-id or EPOCHWATT_JOB_ID)"), std::string::npos)
      << id.warnings[0];
  // A lone process that inherited a rendezvous address is no job of many.
  JobIdentity lone = detect({{"MASTER_ADDR", "h"}, {"MASTER_PORT", "1"}});
  EXPECT_EQ(lone.job_id, "");
  EXPECT_TRUE(lone.warnings.empty());
}

// The real mpirun (OpenMPI): each of two ranks' environments, as mpirun gave it, names one job.
TEST(DetectJob, TwoRanksOfARealMpirunNameOneJob) {
  const char* mpirun = "/usr/bin/mpirun";
  if (!std::filesystem::exists(mpirun)) GTEST_SKIP() << "mpirun not installed (apt-get install openmpi-bin)";
  ewtest::TempDir dir;
  std::string cmd = std::string(mpirun) + " --allow-run-as-root --oversubscribe -np 2 sh -c 'env > \"" + dir.str() +
                    "/env.$OMPI_COMM_WORLD_RANK\"' >/dev/null 2>&1";
  if (std::system(cmd.c_str()) != 0) GTEST_SKIP() << "mpirun -np 2 could not start here: " << cmd;
  std::vector<JobIdentity> ids;
  for (int rank : {0, 1}) {
    Env env;
    std::ifstream in(dir.str() + "/env." + std::to_string(rank));
    for (std::string line; std::getline(in, line);)
      if (auto eq = line.find('='); eq != std::string::npos) env[line.substr(0, eq)] = line.substr(eq + 1);
    // Only the launcher's variables: a job id of the shell running the tests must not mask them.
    for (const char* outer : {"EPOCHWATT_JOB_ID", "SLURM_JOB_ID", "SLURM_JOBID", "TORCHELASTIC_RUN_ID"}) env.erase(outer);
    ids.push_back(detect(env));
  }
  EXPECT_EQ(ids[0].launcher, "openmpi");
  EXPECT_EQ(ids[0].rank, 0);
  EXPECT_EQ(ids[1].rank, 1);
  EXPECT_EQ(ids[0].job_id.rfind("openmpi-", 0), 0u) << ids[0].job_id;
  EXPECT_EQ(ids[0].job_id, ids[1].job_id);
}

}  // namespace
