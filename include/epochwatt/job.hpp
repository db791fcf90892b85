// Where a process stands in a multi-process job (docs/cluster.md): torchrun, mpirun, srun start
// one tracker per rank, and each must know its rank, its node and its job so that a joule is
// counted once per node and rank 0 can report the whole job.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace epochwatt {

struct Options;

// One process's place in its job. Plain data; copy freely. Written whole into every record the
// run writes (the JSON summary's context.job, JSON Lines, CSV, Prometheus labels).
struct JobIdentity {
  std::string job_id;        // the job's id; "" outside a multi-process job, or in one that has none
  std::string step_id;       // SLURM_STEP_ID; "" where the launcher has no steps
  int rank = 0;              // global rank, 0-based
  int local_rank = 0;        // rank among the job's processes on this node, 0-based
  int world_size = 1;        // processes in the job
  int local_world_size = 1;  // processes of the job on this node
  std::string node;          // this node's name (Options::node, EPOCHWATT_NODE, else the host name)
  int node_rank = -1;        // the node's index in the job where the launcher says it (SLURM_NODEID); -1 unknown
  // Where the identity came from: "options", "torchrun", "openmpi", "slurm", or "none" (a single
  // process; also every process when Options::independent is set).
  std::string launcher = "none";
  // One line each, for the run's warnings: launcher variables that were malformed or contradicted
  // each other and were ignored ("OMPI_COMM_WORLD_RANK='x' is not a whole number: ..."). Not
  // written into records.
  std::vector<std::string> warnings;

  bool multi_process() const { return world_size > 1; }
};

// An environment lookup: the value of a variable, nullopt when unset. Empty: getenv().
using EnvLookup = std::function<std::optional<std::string>(std::string_view name)>;

// The identity of this process from the options (which win, field by field) and the launcher's
// environment (docs/cluster.md, "Identity: rank, node, job"). The innermost launcher describes
// the process: torchrun (RANK and WORLD_SIZE) before OpenMPI (OMPI_COMM_WORLD_RANK and _SIZE)
// before SLURM (SLURM_PROCID and SLURM_NTASKS), so that `srun torchrun` or `mpirun` inside an
// allocation gives the ranks of torchrun or mpirun. The job id is the outermost one that exists:
// EPOCHWATT_JOB_ID, else SLURM_JOB_ID (SLURM_JOBID), else torchrun's TORCHELASTIC_RUN_ID (its
// default "none" is no id), else OpenMPI's OMPI_MCA_ess_base_jobid (OMPI_MCA_orte_ess_jobid on
// 1.x-3.x), else PMIX_NAMESPACE (OpenMPI 5), else torch's MASTER_ADDR:MASTER_PORT (with RANK set or
// more than one process). They are read for ranks the options gave as well, so every rank of a job
// names the same one; a job of more than one process without any leaves job_id "" with one line
// in `warnings`. The node is Options::node, else EPOCHWATT_NODE, else the host name.
// A malformed or contradictory variable never throws: the launcher's variables are ignored, with
// one line in `warnings`, and the next launcher (else a single process) describes the process.
// With Options::independent: a single process ("none"), whatever the environment.
// Throws OptionsError for options that contradict each other or the environment (rank >=
// world_size ...).
JobIdentity detect_job(const Options& options, const EnvLookup& env = {});

}  // namespace epochwatt
