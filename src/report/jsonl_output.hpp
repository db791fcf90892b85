// JSON Lines: one object per epoch, appended (and on disk) as the epoch ends, and one for the run
// at its end. Every line carries the JSON summary's versioned context block (tool, version,
// json_schema_version, run id, host, devices, settings: to_json(RunContext), report/run_json.hpp),
// so that lines of several runs appended to one file stay apart. Format: docs/outputs.md.
#pragma once

#include <string>

#include "report/file_output.hpp"
#include "report/json_summary.hpp"

namespace epochwatt::detail {

// {"type":"epoch","context":{...},"time_utc":...,"epoch":N,...,"totals":{...}} and "\n".
// `totals` are those of r.actual: the epochs ended so far in a snapshot, the run's at the end.
std::string jsonl_epoch_line(const Run& r, const EpochSummary& e);
// {"type":"run","context":{...},...,"prediction":...,"actual":...} and "\n".
std::string jsonl_run_line(const Run& r);

// Appends `text` with one write() on a file opened with O_APPEND (created 0644 if missing) and
// closes it, so each line is on disk once this returns. Returns "" or a one-line error.
std::string append_to_file(const std::string& path, const std::string& text);

// JSON Lines as a Reporter: each epoch's line appended as it ends, the run's line at the end.
class JsonlReporter final : public FileOutputReporter {
 public:
  explicit JsonlReporter(std::string path) : FileOutputReporter("JSON Lines", std::move(path)) {}
  void epoch_ended(const Run& run) override { write(run, false); }
  void run_finished(const Run& run) override { write(run, true); }

 private:
  void write(const Run& run, bool finished);
  std::size_t epochs_written_ = 0;  // epochs of the run already appended
};

}  // namespace epochwatt::detail
