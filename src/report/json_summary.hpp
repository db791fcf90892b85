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
#include "report/file_output.hpp"

namespace epochwatt::detail {

// Serialise (locale-independent numbers). Pretty-printed with two-space indents, except that each
// array of the epochs' columns is on one line (docs/json-summary.md).
std::string to_json(const Run& r);
// The same text in pieces of about 64 KiB, as it is made: the epochs are written straight from
// the run's table, never held whole as text or as a JSON tree. `put` returns false to stop.
void write_json_summary(const Run& r, const ContentSink& put);
// The JSON summary as a Reporter: the file is written (atomically, report/file_sink's
// replace_file) when the run finishes; a failure is warned about once and leaves no temporary file.
class JsonSummaryReporter final : public FileOutputReporter {
 public:
  explicit JsonSummaryReporter(std::string path, std::shared_ptr<FileSink> sink = nullptr)
      : FileOutputReporter("JSON summary", std::move(path), std::move(sink)) {}
  void run_finished(const Run& run) override;
};

// Write atomically (temporary file + rename; report/file_sink's replace_file on the real file
// system, any existing regular file replaced). Returns an empty string or a one-line error.
std::string write_file_atomically(const std::string& path, const std::string& content);

}  // namespace epochwatt::detail
