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

// The shape of a JSON Lines file for report/file_sink's append_record: no header; a non-empty
// file is ours when its first line starts as our lines do ({"type":"), else it is foreign (kept,
// the lines go to a sibling); a last line without "\n" is whole when it parses as JSON, else cut.
RecordFormat jsonl_format();

// JSON Lines as a Reporter: each epoch's line appended as it ends, the run's line at the end.
class JsonlReporter final : public FileOutputReporter {
 public:
  explicit JsonlReporter(std::string path, std::shared_ptr<FileSink> sink = nullptr)
      : FileOutputReporter("JSON Lines output", std::move(path), std::move(sink)) {}
  void epoch_ended(const Run& run) override { write(run, false); }
  void run_finished(const Run& run) override { write(run, true); }

 private:
  void write(const Run& run, bool finished);
  // Epochs of the run already in the file. Lines that could not be written (a full disk) are
  // written with the next epoch's, late but complete: each says when it was written (time_utc).
  std::size_t epochs_written_ = 0;
};

}  // namespace epochwatt::detail
