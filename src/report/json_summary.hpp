// One JSON document per run: a versioned context block (tool, version, schema, host, devices,
// methods), the epochs, the prediction, the actual figures and the intensity with its source.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "epochwatt/intensity.hpp"
#include "epochwatt/reporter.hpp"
#include "epochwatt/run.hpp"

namespace epochwatt::detail {

// Serialise (locale-independent numbers). Pretty-printed with two-space indents.
std::string to_json(const Run& r);
// The JSON summary as a Reporter: the file is written (atomically) when the run finishes.
class JsonSummaryReporter final : public Reporter {
 public:
  explicit JsonSummaryReporter(std::string path) : path_(std::move(path)) {}
  void run_finished(const Run& run) override;

 private:
  std::string path_;
};

// Write atomically (temporary file + rename). Returns an empty string or a one-line error.
std::string write_file_atomically(const std::string& path, const std::string& content);

}  // namespace epochwatt::detail
