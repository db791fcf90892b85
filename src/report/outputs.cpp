#include "report/outputs.hpp"

#include "report/codecarbon_csv.hpp"
#include "report/jsonl_output.hpp"
#include "report/prometheus_output.hpp"

namespace epochwatt::detail {

std::shared_ptr<Reporter> make_output_reporter(const OutputSpec& spec, const std::string& proc_root) {
  switch (spec.format) {
    case OutputSpec::Format::csv: return std::make_shared<CsvReporter>(spec.path, proc_root);
    case OutputSpec::Format::jsonl: return std::make_shared<JsonlReporter>(spec.path);
    case OutputSpec::Format::prometheus: return std::make_shared<PrometheusReporter>(spec.path);
  }
  return nullptr;
}

}  // namespace epochwatt::detail
