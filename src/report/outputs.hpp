// The machine-readable outputs of Options::outputs as reporters: one factory, the only place that
// looks at OutputSpec::Format. Each format is its own reporter (jsonl_output, codecarbon_csv,
// prometheus_output).
#pragma once

#include <memory>
#include <string>

#include "epochwatt/options.hpp"
#include "epochwatt/reporter.hpp"

namespace epochwatt::detail {

// proc_root: where host facts are read for the CSV (Options::proc_root).
std::shared_ptr<Reporter> make_output_reporter(const OutputSpec& spec, const std::string& proc_root);

}  // namespace epochwatt::detail
