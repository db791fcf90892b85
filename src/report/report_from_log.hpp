// The report model (html_report.hpp) of one run read from carbontracker-format log files
// (log_parse.hpp): a carbontracker 2.3/2.4 run or one of epochwatt's own, with or without its
// output log. What the logs do not hold (the host, power finer than one value per epoch, the
// meters' identifiers) stays empty rather than being made up. Pure: no I/O.
#pragma once

#include "report/html_report.hpp"
#include "report/log_parse.hpp"

namespace epochwatt::detail {

// The figures come from the output log's blocks as printed (PUE included). A run read from its
// standard log alone (parse_standard_log) gets its measured figures from the epochs: energy x
// PUE, CO2 at the logged average intensity (none: CO2 0 and a warning), km at kCarGramsPerKm;
// the report's warnings say so.
ReportData report_data_from_parsed_run(const ParsedRun& run);

}  // namespace epochwatt::detail
