// The run model (epochwatt/run.hpp) of one run read from carbontracker-format log files
// (log_parse.hpp): a carbontracker 2.3/2.4 run, an older carbontracker's, or one of epochwatt's own,
// with or without its output log. The HTML report from logs (report_from_log.hpp) is drawn from it.
//
// What the logs do not hold stays empty or at RunContext's defaults rather than being made up: the
// host, OS, pid, run id and meter ids; the start and end as time points (the logs' stamps are in
// the writing machine's local time, without a zone); power finer than one value per epoch
// (power_series stays empty); the prediction settings other than the planned epochs.
//
// Thread-safety: a pure function on values. Source: docs/report.md ("What a report from logs
// shows"), spec §5-§8.
#pragma once

#include <string_view>

#include "epochwatt/run.hpp"
#include "report/ct_report.hpp"
#include "report/log_parse.hpp"

namespace epochwatt::detail {

// MeterInfo::detail of a component's one entry when the log gives only the component's total
// power (carbontracker 2.x), not one value per device.
inline constexpr std::string_view kLogTotalOnly = "the log gives only the component's total";

// The run model of `run`:
// - context: tool_name "epochwatt" for epochwatt's logs, "carbontracker" for the original's (its
//   version on the first line or its units), the first line's other tool if one is named, else ""
//   (unknown writer); version: the first line's; components in the components line's order; pue:
//   the logged one, else carbontracker's default 1.58 with a warning; epochs_planned: the predicted
//   block's count (0 without one); monitor_epochs: M of `Training was interrupted before all M
//   epochs` (else the default); job: the `Job identity` line's (a multi-process job's rank), else
//   a single process's.
// - meters: one per device where every counted epoch gives that component's per-device powers
//   (epochwatt's `Power by device` lines, numpy arrays of carbontracker <= 1.2), else one per
//   component naming all its devices (detail kLogTotalOnly). Method: the extension line's for
//   epochwatt's logs (per device from the `Measuring ...` lines when it names several, or when a
//   component has no power line), sampled_power for carbontracker's; unknown where the log says
//   nothing. Ids are empty: a device entry names its meter by component and device name.
// - epochs, in log order: index, duration; joules = the power lines' W x duration summed (the
//   original's arithmetic); one DeviceEnergy per meter whose component has a power value in that
//   epoch (None/nan: no entry). An interrupted epoch (epochwatt's) has its logged joules and no
//   devices.
// - prediction, actual: the output log's blocks as printed (facility energy, PUE included);
//   intensity = the logged average intensity for the actual (the value carbontracker used), else
//   the block's gCO2e / kWh. A run read from its standard log alone (no output log) has no
//   prediction and its actual from its epochs through footprint_of_epochs() (complete = false: the
//   logs do not say that the run finished), with a warning.
// - intensity: the logged average, else the mean of the logged values, else the blocks' gCO2e/kWh;
//   source: epochwatt's `Intensity source:` text or the original's `Carbon intensity ...` line, else
//   "as logged by {tool}"; intensity_values: the logged values. location: city, region and
//   country from carbontracker's "{city}, {region}, {CC}" address (nothing from "Unknown").
// - warnings: a missing PUE line, a standard log read alone, the reader's notes, carbontracker
//   2.x's mean-not-sum of several devices (defect D1), methods the log leaves open.
// - log_std, log_output: the paths read.
Run run_from_log(const ParsedRun& run);

// energy_by_basis(run_from_log(run).epochs, run_from_log(run).setup), the same sums in the same
// order, without building the run model: `epochwatt parse` adds it up for every run it reads.
EnergyByBasis energy_by_basis_of_log(const ParsedRun& run);

// The tool that wrote the log as reports name it: "epochwatt", "carbontracker", another tool named
// on the first line, or "" when the log does not say.
std::string log_writer(const ParsedRun& run);

}  // namespace epochwatt::detail
