// Fuzz target: the carbontracker log reader (src/report/log_parse.cpp) and what `epochwatt parse`
// and `epochwatt report` do with what it read (run model, aggregate, sentence, HTML report).
// Input: a standard log; if it contains kOutputLogMarker, the text after it is the output log of
// the same run (parse_log_pair), else the standard log is read alone (parse_standard_log).
// Expected failure: LogParseError, which the CLI reports in one line. Anything else escaping,
// or a sanitizer finding, is a bug.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_support.hpp"
#include "report/html_report.hpp"
#include "report/log_parse.hpp"
#include "report/report_from_log.hpp"
#include "report/run_from_log.hpp"

namespace {
constexpr std::string_view kOutputLogMarker = "\n=== output log ===\n";
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace epochwatt::detail;
  std::string_view text = ewfuzz::as_text(data, size);
  std::size_t cut = text.find(kOutputLogMarker);
  const auto& dir = ewfuzz::scratch();
  try {
    ParsedRun run;
    if (cut == std::string_view::npos) {
      run = parse_standard_log(dir.write("fuzz_carbontracker.log", text));
    } else {
      std::string std_path = dir.write("fuzz_carbontracker.log", text.substr(0, cut));
      std::string out_path = dir.write("fuzz_carbontracker_output.log", text.substr(cut + kOutputLogMarker.size()));
      run = parse_log_pair(std_path, out_path);
    }
    epochwatt::Run model = run_from_log(run);
    (void)model;
    Aggregate a = aggregate({run});
    (void)aggregate_sentence(a);
    (void)render_html(report_data_from_parsed_run(run));
  } catch (const LogParseError&) {
  }
  return 0;
}
