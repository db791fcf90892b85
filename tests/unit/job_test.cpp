// detect_job(): a process's place in its job from the launcher's environment and the options
// (include/epochwatt/job.hpp, docs/cluster.md "Identity: rank, node, job").
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "epochwatt/errors.hpp"
#include "epochwatt/job.hpp"
#include "epochwatt/options.hpp"

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

}  // namespace
