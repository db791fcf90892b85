// A multi-process job's energy and carbon from the log files of its ranks (`epochwatt parse
// --by-job`, issue 14; docs/parse.md "By job", docs/cluster.md "A job report from the files").
//
// Every rank of a job writes its own log pair; epochwatt's carry a `Job identity` line (job id,
// step, rank, local rank, world size, node: job_line.hpp) and one `Measuring ...` line per meter
// (id, device, component, method). The job's runs are grouped by (job id, step); each device is
// counted once per node, however many ranks measured it:
// - A device is known on its node by its meter id ("nvml:0", "rapl:0", "estimate:cpu"): NVML's
//   indices and RAPL's zones are the node's, whatever CUDA_VISIBLE_DEVICES a rank sees. Meters
//   that measure the process itself ("estimate:cpu-tree") are the rank's own, never duplicates.
// - Node-wide meters are those of the cpu and dram components (RAPL packages and DRAM, the CPU and
//   DRAM estimates): the log does not mark them, so the component says it (docs/cluster.md).
// - When two ranks measured the same device on the same node, the lowest rank's measurement
//   counts and the others' are left out, with one warning per device.
// - A log that gives a component's total without per-device figures: the total is one figure
//   over all the component's meters, matched meter by meter (covering only meters counted already
//   on the node: a duplicate; some of them: counted, with a warning). A per-device line that names
//   more or fewer devices than the meters: a name that one meter alone has is that meter; others
//   are devices of their own, with a warning (docs/parse.md, "By job").
// - A rank's energy is its counted devices' IT energy over its completed epochs, plus its set-up
//   before epoch 1 (in the share of its devices that count); facility energy = IT x the rank's
//   PUE, gCO2e = that x the rank's average carbon intensity (footprint()). The job is summed from
//   the measurements, not from the output logs' blocks: those hold each rank's whole figure, or
//   in a job-wide report (rank 0) the whole job's, and neither can be split by device.
// - The world size known, a rank without log files is warned about (its energy is missing).
//
// Thread-safety: JobGrouper is used by one thread; the free functions are pure.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "epochwatt/job.hpp"
#include "report/log_parse.hpp"

namespace epochwatt::detail {

// One device (one meter) that a rank measured, with its IT energy over the rank's completed epochs.
struct RankDevice {
  std::string meter;      // the meter's id from its `Measuring` line ("nvml:0"); for a component total without
                          // per-device figures, its meters' ids sorted and joined with '+'
                          // ("rapl:0+rapl:0:0"); "" where the log names none
  std::string device;     // the device's name
  std::string component;  // "gpu", "cpu", "dram"; carbontracker's "gpu"/"cpu" where the log gives a component total
  std::string method;     // "counter", "estimate", ...; "" when not logged
  bool node_wide = false;    // a cpu or dram meter that is not the process's own (see above)
  bool per_process = false;  // a meter of the process itself ("...-tree"): never a duplicate
  bool shared = false;       // shared through the node election (the log's shared-meters line; a total:
                             // all its meters): the ranks' figures for it are disjoint in time and add up
  double joules = 0.0;       // IT energy, J, over the completed epochs (None/nan epochs count 0)
};

// What the job report keeps of one rank's run: its identity and per-device energies (a few
// hundred bytes), not the parsed run.
struct RankRun {
  std::string id, std_log, output_log;  // as ParsedRun's
  JobIdentity job;
  std::vector<RankDevice> devices;      // in log order
  int epochs = 0;                       // completed epochs
  double duration_s = 0.0;              // their duration plus the set-up's
  double setup_joules = 0.0;            // the set-up's IT energy (the log gives no per-device split)
  double pue = 1.58;                    // the logged PUE, else Options' default (carbontracker's)
  std::optional<double> intensity;      // gCO2e/kWh: the logged average, else the blocks' ratio,
                                        // else the mean of the logged values
  bool tool_is_epochwatt = true;        // for the sentence's credit
};

// The rank run of a parsed run. Its job is run.job, or a single process's when it has none.
RankRun rank_run_of(const ParsedRun& run);

// A device as the job counts it: once per node and meter.
struct JobDevice {
  std::string node;
  int rank = 0;                       // the rank whose measurement counts (the lowest)
  RankDevice device;
  std::vector<int> also_measured_by;  // other ranks that measured it too, not counted
  std::vector<int> shared_with;       // other ranks that held its election claim for a while: counted too
};

// One rank's part of the job's total.
struct RankShare {
  double it_joules_measured = 0.0;  // all its devices and its set-up
  double it_joules_counted = 0.0;   // without the devices counted in another rank's run
  double energy_kwh = 0.0;          // counted x PUE
  double co2_g = 0.0;               // energy_kwh x intensity (0 when the intensity is unknown)
};

struct JobFilesReport {
  std::string job_id, step_id;
  int world_size = 0;                 // the largest that the ranks' logs state
  std::vector<RankRun> runs;          // ordered by rank, then id
  std::vector<RankShare> shares;      // one per run, in the same order
  std::vector<int> missing_ranks;     // ranks 0..world_size-1 without a run here
  std::vector<std::string> nodes;     // in the order of their lowest rank
  std::vector<JobDevice> devices;     // the devices counted, in the order of runs
  std::size_t duplicates = 0;         // device measurements left out as duplicates
  int epochs = 0;                     // the most epochs a rank completed
  double duration_s = 0.0;            // the longest rank's time
  double it_joules = 0.0;             // counted, without PUE
  double it_joules_measured = 0.0;    // in the logs, duplicates included
  double energy_kwh = 0.0;            // facility energy, x each rank's PUE
  double co2_g = 0.0;
  double km = 0.0;                    // co2_g / kCarGramsPerKm
  std::vector<std::string> warnings;  // one line each, each starting with label()

  // "job 4242", "job 4242 step 1", "(ranks without a job id)".
  std::string label() const;
};

// The report of one job's runs (any order; all of the same job and step).
JobFilesReport report_job_files(std::string job_id, std::string step_id, std::vector<RankRun> runs);

// Groups runs by job as they are read (parse's streaming): add() keeps what the report needs of a
// run with a job line; finish() makes the reports.
class JobGrouper {
 public:
  // True when `run` has a job line and was kept; false for a single process's run (no job id),
  // which the caller sums as `epochwatt parse` does.
  bool add(const ParsedRun& run);
  // The jobs, ordered by job id, then step (as text); the grouper is empty afterwards.
  std::vector<JobFilesReport> finish();
  std::size_t runs() const { return runs_; }

 private:
  std::map<std::pair<std::string, std::string>, std::vector<RankRun>> jobs_;
  std::size_t runs_ = 0;
};

}  // namespace epochwatt::detail
