// Fuzz target: the JSON summary reader as `epochwatt report SUMMARY.json` uses it: nlohmann's
// parser, the run model's from_json (src/report/run_json.cpp), the report model and the HTML page.
// Expected failures, each a one-line message in the CLI (src/cli/cmd_report.cpp): any
// nlohmann::json::exception and std::invalid_argument. Anything else, or a sanitizer finding, is a bug.
#include <cstddef>
#include <cstdint>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "fuzz_support.hpp"
#include "report/html_report.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace epochwatt::detail;
  try {
    ReportData d = report_data_from_json_summary(nlohmann::json::parse(ewfuzz::as_text(data, size)));
    (void)render_html(d);
  } catch (const nlohmann::json::exception&) {
  } catch (const std::invalid_argument&) {
  }
  return 0;
}
