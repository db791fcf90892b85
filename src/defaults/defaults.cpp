// The `epochwatt` library's one-call default: every layer wired into the core's Tracker.
#include "epochwatt/defaults.hpp"

#include <iostream>

#include "epochwatt/job.hpp"
#include "epochwatt/registry.hpp"
#include "intensity/service.hpp"
#include "meters/sysfs/proc_root.hpp"
#include "report/ct_logs.hpp"
#include "report/ct_reporter.hpp"
#include "report/job_line.hpp"
#include "report/json_summary.hpp"
#include "report/outputs.hpp"

namespace epochwatt {

TrackerParts default_tracker_parts(const Options& o) {
  validate(o);
  validate_backend_options(o, BackendRegistry::builtin());  // before any log file is made
  std::shared_ptr<Clock> clock = o.clock ? o.clock : system_clock();
  TrackerParts parts;
  // With ignore_errors a log folder that cannot be made is warned about, and the run goes on
  // without log files (ct_logs.hpp).
  // Ranks other than 0 of a multi-process job name their files with their rank (job_line.hpp).
  // Contradictory job options are the tracker's to report (it calls detect_job too): here they
  // leave the names untagged.
  std::string rank_tag;
  try {
    rank_tag = detail::rank_file_tag(detect_job(o));
  } catch (const std::exception&) {
  }
  auto log = std::make_shared<detail::CtLogger>(clock, o.console ? o.console : &std::cout, o.verbose,
                                                o.log_dir.value_or(""), o.log_file_prefix, nullptr, o.ignore_errors,
                                                rank_tag);
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

  parts.intensity = std::make_shared<detail::IntensityService>(o, nullptr, [clock] { return clock->wall(); });
  RunDiscovery found = discover_for_run(o);
  parts.meters = std::move(found.meters);
  parts.discovery_notes = std::move(found.notes);
  parts.coverage_warnings = std::move(found.coverage_warnings);
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
