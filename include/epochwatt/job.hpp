// Where a process stands in a multi-process job (docs/cluster.md): torchrun, mpirun, srun start
// one tracker per rank, and each must know its rank, its node and its job so that a joule is
// counted once per node and rank 0 can report the whole job.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace epochwatt {

struct Options;

// One process's place in its job. Plain data; copy freely. Written whole into every record the
// run writes (the JSON summary's context.job, JSON Lines, CSV, Prometheus labels).
struct JobIdentity {
  std::string job_id;        // the job's id; "" outside a multi-process job
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

  bool multi_process() const { return world_size > 1; }
};

// An environment lookup: the value of a variable, nullopt when unset. Empty: getenv().
using EnvLookup = std::function<std::optional<std::string>(std::string_view name)>;

// The identity of this process from the options (which win, field by field) and the launcher's
// environment. With Options::independent: a single process ("none"), whatever the environment.
// Throws OptionsError for values that contradict each other (rank >= world_size ...).
JobIdentity detect_job(const Options& options, const EnvLookup& env = {});

}  // namespace epochwatt
