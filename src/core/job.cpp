// detect_job(): this process's place in its job (include/epochwatt/job.hpp, docs/cluster.md,
// "Identity: rank, node, job").
#include "epochwatt/job.hpp"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <limits>

#include "epochwatt/errors.hpp"
#include "epochwatt/options.hpp"

namespace epochwatt {
namespace {

std::optional<std::string> lookup(const EnvLookup& env, std::string_view name) {
  if (env) return env(name);
  const char* v = std::getenv(std::string(name).c_str());
  if (!v) return std::nullopt;
  return std::string(v);
}

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "";
  return buf;
}

// A launcher's view of the process, before the options overlay it. Fields a launcher does not
// give stay unset.
struct LauncherView {
  std::string name;
  std::optional<int> rank, local_rank, world_size, local_world_size, node_rank;
};

// Reads the variables of one launcher. A variable that is set but not a whole number in range,
// or values that contradict each other, make the whole launcher's view void (one line in
// *warnings): half a launcher's identity is worse than none.
class LauncherReader {
 public:
  LauncherReader(const EnvLookup& env, std::string name, std::vector<std::string>* warnings)
      : env_(env), warnings_(warnings) {
    view_.name = std::move(name);
  }
  // Whether `name` is set (even empty).
  bool has(std::string_view name) const { return lookup(env_, name).has_value(); }
  // Reads `name` into `to` when set; `min` is its smallest valid value.
  void read(std::string_view name, std::optional<int>& to, int min) {
    auto v = lookup(env_, name);
    if (!v) return;
    int x = 0;
    const char* end = v->data() + v->size();
    auto [p, ec] = std::from_chars(v->data(), end, x);
    if (v->empty() || ec != std::errc() || p != end || x < min) {
      fail(std::string(name) + "='" + *v + "' is not a whole number >= " + std::to_string(min));
      return;
    }
    to = x;
  }
  void fail(const std::string& why) {
    if (!failed_)
      warnings_->push_back(why + ": the " + view_.name +
                           " variables are ignored (the next launcher's, else the options, describe this process)");
    failed_ = true;
  }
  // The view, checked for consistency; nullopt when a variable was malformed.
  std::optional<LauncherView> view() {
    const auto& v = view_;
    if (!failed_ && v.rank && v.world_size && *v.rank >= *v.world_size)
      fail("rank " + std::to_string(*v.rank) + " >= world size " + std::to_string(*v.world_size));
    if (!failed_ && v.local_rank && v.local_world_size && *v.local_rank >= *v.local_world_size)
      fail("local rank " + std::to_string(*v.local_rank) + " >= local world size " +
           std::to_string(*v.local_world_size));
    if (!failed_ && v.local_world_size && v.world_size && *v.local_world_size > *v.world_size)
      fail("local world size " + std::to_string(*v.local_world_size) + " > world size " +
           std::to_string(*v.world_size));
    if (failed_) return std::nullopt;
    return view_;
  }
  LauncherView& fields() { return view_; }

 private:
  const EnvLookup& env_;
  std::vector<std::string>* warnings_;
  LauncherView view_;
  bool failed_ = false;
};

// torchrun (torch.distributed.run) and torch's env:// convention: RANK and WORLD_SIZE; torchrun
// adds LOCAL_RANK, LOCAL_WORLD_SIZE and GROUP_RANK (the node's index).
std::optional<LauncherView> torchrun(const EnvLookup& env, std::vector<std::string>* w) {
  LauncherReader r(env, "torchrun", w);
  if (!r.has("RANK") || !r.has("WORLD_SIZE")) return std::nullopt;
  auto& f = r.fields();
  r.read("RANK", f.rank, 0);
  r.read("WORLD_SIZE", f.world_size, 1);
  r.read("LOCAL_RANK", f.local_rank, 0);
  r.read("LOCAL_WORLD_SIZE", f.local_world_size, 1);
  r.read("GROUP_RANK", f.node_rank, 0);
  return r.view();
}

// OpenMPI's mpirun (checked with Debian 12's 4.1.4). OMPI_COMM_WORLD_NODE_RANK is the process's
// rank among all processes on its node, not the node's index, so it is not read.
std::optional<LauncherView> openmpi(const EnvLookup& env, std::vector<std::string>* w) {
  LauncherReader r(env, "OpenMPI", w);
  if (!r.has("OMPI_COMM_WORLD_RANK") || !r.has("OMPI_COMM_WORLD_SIZE")) return std::nullopt;
  auto& f = r.fields();
  r.read("OMPI_COMM_WORLD_RANK", f.rank, 0);
  r.read("OMPI_COMM_WORLD_SIZE", f.world_size, 1);
  r.read("OMPI_COMM_WORLD_LOCAL_RANK", f.local_rank, 0);
  r.read("OMPI_COMM_WORLD_LOCAL_SIZE", f.local_world_size, 1);
  return r.view();
}

// SLURM's srun: SLURM_PROCID and SLURM_NTASKS (SLURM_NPROCS on old versions). The tasks on this
// node: SLURM_NTASKS_PER_NODE when set, else SLURM_TASKS_PER_NODE when it is one plain number
// ("4"; "2(x3),1" gives no single figure and is left unknown).
std::optional<LauncherView> slurm(const EnvLookup& env, std::vector<std::string>* w) {
  LauncherReader r(env, "SLURM", w);
  if (!r.has("SLURM_PROCID")) return std::nullopt;
  auto& f = r.fields();
  r.read("SLURM_PROCID", f.rank, 0);
  r.read(r.has("SLURM_NTASKS") ? "SLURM_NTASKS" : "SLURM_NPROCS", f.world_size, 1);
  r.read("SLURM_LOCALID", f.local_rank, 0);
  r.read("SLURM_NODEID", f.node_rank, 0);
  if (r.has("SLURM_NTASKS_PER_NODE")) {
    r.read("SLURM_NTASKS_PER_NODE", f.local_world_size, 1);
  } else if (auto per = lookup(env, "SLURM_TASKS_PER_NODE"); per && per->find_first_not_of("0123456789") == std::string::npos) {
    r.read("SLURM_TASKS_PER_NODE", f.local_world_size, 1);
  }
  if (!f.world_size) return std::nullopt;  // SLURM_PROCID alone (a batch script's step) is no job of many
  return r.view();
}

std::optional<std::string> nonempty(const EnvLookup& env, std::string_view name) {
  auto v = lookup(env, name);
  if (v && !v->empty()) return v;
  return std::nullopt;
}

// The job id, outermost first (job.hpp). Every variable read here is the same in all processes of
// one job, so the ranks agree on the id without talking to each other. SLURM_JOBID and
// OMPI_MCA_orte_ess_jobid are the older names (SLURM before 2.x, OpenMPI 1.x to 3.x); OpenMPI 5
// (PRRTE) sets PMIX_NAMESPACE only. torch's MASTER_ADDR:MASTER_PORT names the job's rendezvous:
// taken with RANK set (torch's env:// convention) or in a job of many processes whose ranks the
// options gave (torch.multiprocessing.spawn with init_process_group's env://), never for a lone
// process that merely inherited the two variables.
std::string job_id_from(const EnvLookup& env, bool multi_process) {
  if (auto v = nonempty(env, "EPOCHWATT_JOB_ID")) return *v;
  if (auto v = nonempty(env, "SLURM_JOB_ID")) return "slurm-" + *v;
  if (auto v = nonempty(env, "SLURM_JOBID")) return "slurm-" + *v;
  if (auto v = nonempty(env, "TORCHELASTIC_RUN_ID"); v && *v != "none") return "torchrun-" + *v;
  if (auto v = nonempty(env, "OMPI_MCA_ess_base_jobid")) return "openmpi-" + *v;
  if (auto v = nonempty(env, "OMPI_MCA_orte_ess_jobid")) return "openmpi-" + *v;
  if (auto v = nonempty(env, "PMIX_NAMESPACE")) return "openmpi-" + *v;
  auto addr = nonempty(env, "MASTER_ADDR"), port = nonempty(env, "MASTER_PORT");
  if (addr && port && (multi_process || nonempty(env, "RANK"))) return "torch-" + *addr + ":" + *port;
  return "";
}

}  // namespace

JobIdentity detect_job(const Options& o, const EnvLookup& env) {
  JobIdentity id;
  if (auto v = lookup(env, "EPOCHWATT_NODE"); v && !v->empty()) id.node = *v;
  if (!o.node.empty()) id.node = o.node;
  if (id.node.empty()) id.node = host_name();
  if (o.independent) return id;

  // The innermost launcher describes the process (job.hpp).
  std::optional<LauncherView> view = torchrun(env, &id.warnings);
  if (!view) view = openmpi(env, &id.warnings);
  if (!view) view = slurm(env, &id.warnings);
  if (view) {
    id.launcher = view->name == "torchrun" ? "torchrun" : view->name == "OpenMPI" ? "openmpi" : "slurm";
    id.rank = view->rank.value_or(0);
    id.world_size = view->world_size.value_or(1);
    // A launcher that does not say how many of its processes share this node (SLURM with an
    // uneven SLURM_TASKS_PER_NODE, torch's env:// without LOCAL_*): the least it can be, local
    // rank + 1 (0 of 1 without a local rank), so that the GPU choice falls back to claiming GPUs
    // by UUID unless the counts match (docs/cluster.md).
    id.local_rank = view->local_rank.value_or(0);
    id.local_world_size = view->local_world_size.value_or(std::max(1, id.local_rank + 1));
    id.node_rank = view->node_rank.value_or(-1);
    if (id.local_world_size > id.world_size) {
      id.warnings.push_back("the " + view->name + " variables give " + std::to_string(id.local_world_size) +
                            " processes on this node but " + std::to_string(id.world_size) +
                            " in the job: the local figures are ignored");
      id.local_rank = 0;
      id.local_world_size = 1;
    }
    id.job_id = job_id_from(env, view->world_size.value_or(1) > 1);
    if (auto step = nonempty(env, "SLURM_STEP_ID")) id.step_id = *step;
  } else if (auto v = nonempty(env, "EPOCHWATT_JOB_ID")) {
    id.job_id = *v;
  }

  bool any = false;
  auto set = [&](const std::optional<int>& from, int& to) {
    if (from) to = *from, any = true;
  };
  set(o.rank, id.rank);
  set(o.local_rank, id.local_rank);
  set(o.world_size, id.world_size);
  set(o.local_world_size, id.local_world_size);
  if (!o.job_id.empty()) id.job_id = o.job_id, any = true;
  if (!o.step_id.empty()) id.step_id = o.step_id, any = true;
  if (any && id.launcher == "none") id.launcher = "options";
  // Ranks that the options gave (or a launcher whose world was widened by them): the launchers' job
  // ids still name the job, so that every rank writes the same one.
  if (id.job_id.empty() && id.world_size > 1) id.job_id = job_id_from(env, true);
  if (id.job_id.empty() && id.world_size > 1)
    id.warnings.push_back("rank " + std::to_string(id.rank) + " of " + std::to_string(id.world_size) +
                          " has no job id (give --job-id or EPOCHWATT_JOB_ID): its records' job_id is empty, and "
                          "parse --by-job and the Prometheus job label take every rank without one for one job");
  if (id.world_size < 1 || id.rank < 0 || id.rank >= id.world_size)
    throw OptionsError("rank " + std::to_string(id.rank) + " is not within a world of " +
                       std::to_string(id.world_size) + " processes.");
  if (id.local_world_size < 1 || id.local_rank < 0 || id.local_rank >= id.local_world_size ||
      id.local_world_size > id.world_size)
    throw OptionsError("local rank " + std::to_string(id.local_rank) + " is not within " +
                       std::to_string(id.local_world_size) + " processes on the node (world of " +
                       std::to_string(id.world_size) + ").");
  return id;
}

}  // namespace epochwatt
