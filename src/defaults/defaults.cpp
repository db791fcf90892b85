// The `epochwatt` library's one-call default: every layer wired into the core's Tracker.
#include "epochwatt/defaults.hpp"

#include <iostream>

#include "epochwatt/job.hpp"
#include "epochwatt/registry.hpp"
#include "intensity/service.hpp"
#include "meters/election/election.hpp"
#include "meters/sysfs/proc_root.hpp"
#include "report/ct_logs.hpp"
#include "report/ct_reporter.hpp"
#include "report/job_line.hpp"
#include "report/json_summary.hpp"
#include "report/outputs.hpp"
#ifdef EPOCHWATT_HAVE_METRICS_SERVER
#include "report/metrics_server.hpp"
#endif

namespace epochwatt {

TrackerParts default_tracker_parts(const Options& o) {
  validate(o);
  validate_backend_options(o, BackendRegistry::builtin());  // before any log file is made
  std::shared_ptr<Clock> clock = o.clock ? o.clock : system_clock();
  TrackerParts parts;
  // With ignore_errors a log folder that cannot be made is warned about, and the run goes on
  // without log files (ct_logs.hpp).
  // Ranks other than 0 of a multi-process job name their files with their rank (job_line.hpp);
  // with a job-wide reduction they print nothing on the console (docs/cluster.md). Contradictory
  // job options are the tracker's to report (it calls detect_job too): here they leave the names
  // untagged and the console as asked.
  std::string rank_tag;
  bool quiet_rank = false;
  try {
    JobIdentity job = detect_job(o);
    rank_tag = detail::rank_file_tag(job);
    quiet_rank = o.job_reduction && !o.independent && job.rank != 0;
  } catch (const std::exception&) {
  }
  std::ostream* console = quiet_rank ? nullptr : o.console ? o.console : &std::cout;
  auto log = std::make_shared<detail::CtLogger>(clock, console, o.verbose, o.log_dir.value_or(""),
                                                o.log_file_prefix, nullptr, o.ignore_errors, rank_tag);
  parts.files.standard_log = log->files().standard;
  parts.files.output_log = log->files().output;
  parts.files.error_log = log->files().error;
  parts.files.json_summary = o.json_path ? *o.json_path : (o.write_json_summary ? log->files().json : "");
  parts.reporters.push_back(std::make_shared<detail::CarbontrackerReporter>(log));
  if (!parts.files.json_summary.empty())
    parts.reporters.push_back(std::make_shared<detail::JsonSummaryReporter>(parts.files.json_summary));
  // The CSV's host facts come from the same proc folder the estimate reads, found at any level.
  std::string proc_root = o.outputs.empty() ? o.proc_root : meters::locate_proc_root(*meters::real_file_reader(), o.proc_root).root;
  for (const auto& spec : o.outputs) parts.reporters.push_back(detail::make_output_reporter(spec, proc_root));
  // The endpoint binds when the tracker starts (run_started) and closes at its stop().
  bool no_metrics_server = false;
  if (!o.metrics_listen.empty()) {
#ifdef EPOCHWATT_HAVE_METRICS_SERVER
    parts.reporters.push_back(std::make_shared<detail::MetricsEndpointReporter>(o.metrics_listen));
#else
    no_metrics_server = true;
#endif
  }

  parts.intensity = std::make_shared<detail::IntensityService>(o, nullptr, [clock] { return clock->wall(); });
  RunDiscovery found = discover_for_run(o);
  // A multi-process job: this rank's GPUs, and one process per node for the node-wide meters
  // (docs/cluster.md). Nothing for a single process or with Options::independent.
  meters::JobSharing sharing;
  sharing.job = detect_job(o);
  sharing.runtime_dir = o.runtime_dir;
  sharing.devices_by_pid = o.devices_by_pid;
  sharing.process_tree_cpu = o.estimate_process_tree;
  sharing.own_meters = o.meters;
  meters::share_meters_in_job(found, sharing);
  parts.meters = std::move(found.meters);
  parts.discovery_notes = std::move(found.notes);
  parts.coverage_warnings = std::move(found.coverage_warnings);
  if (no_metrics_server)
    parts.coverage_warnings.push_back("The metrics endpoint is off: this epochwatt was built without cpp-httplib "
                                      "(libcpp-httplib-dev); the run goes on without it.");
  std::istream* in = o.confirm_input ? o.confirm_input : &std::cin;
  parts.read_answer = [in]() -> std::optional<std::string> {
    std::string line;
    if (!std::getline(*in, line)) return std::nullopt;
    return line;
  };
  return parts;
}

Tracker::Tracker(Options options) : Tracker(options, default_tracker_parts(options)) {}

}  // namespace epochwatt
