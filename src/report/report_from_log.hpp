// The report model (html_report.hpp) of one run read from carbontracker-format log files
// (log_parse.hpp): a carbontracker 2.3/2.4 run or one of epochwatt's own, with or without its
// output log. The figures come from the run model (run_from_log.hpp, then report_data_from_run, as
// for a JSON summary); what stays log-specific is listed below. Pure: no I/O.
#pragma once

#include "report/html_report.hpp"
#include "report/log_parse.hpp"

namespace epochwatt::detail {

// report_data_from_run(run_from_log(run)), and what the run model does not carry:
// - source: the paths read; tool "unknown writer" when the log does not name one;
// - started/finished: the standard log's first and last stamps as written (local time of the
//   machine that wrote it; the run model holds UTC time points only);
// - location: the address as logged; planned epochs without a predicted block: the early-stop
//   line's M, else the epochs done (the prediction curve follows);
// - power over time: one point per counted epoch at its middle, the component's logged mean power
//   (the log holds nothing finer; the run model's power series stays empty);
// - the sentence for a paper: log_parse's aggregate of this run, in the original's words for a
//   carbontracker log (measured_by), or of the measured figures for a standard log read alone.
ReportData report_data_from_parsed_run(const ParsedRun& run);

}  // namespace epochwatt::detail
