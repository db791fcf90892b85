// The tracker's one door to the machine-readable outputs (Options::outputs): at each epoch end it
// appends the new epochs to the JSON Lines files and rewrites the Prometheus textfiles; at the end
// of the run it adds the run's JSON line, the CSV row and the final textfile. A failing output
// gives one warning (through the callback) and is never an error of the training run.
//
// Thread-safety: none of its own; the tracker calls it from its sampler thread only.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "epochwatt/options.hpp"
#include "report/codecarbon_csv.hpp"
#include "report/json_summary.hpp"

namespace epochwatt::detail {

// A random UUID version 4 ("xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx"), CodeCarbon's run_id form.
std::string make_run_id();

class OutputSink {
 public:
  using Warn = std::function<void(const std::string& message)>;
  // proc_root: where host facts are read for the CSV (Options::proc_root).
  OutputSink(std::vector<OutputSpec> outputs, std::string proc_root, Warn warn);

  // A snapshot after an epoch ended (record.complete == false). Never throws.
  void epoch_ended(const RunRecord& snapshot) noexcept;
  // The finished run (record.complete == true). Never throws; later calls do nothing.
  void run_finished(const RunRecord& record) noexcept;

 private:
  struct Target {
    OutputSpec spec;
    std::size_t epochs_written = 0;  // JSON Lines: epochs of the record already appended
    bool warned = false;             // one warning per output, however often it fails
  };
  void write_all(const RunRecord& r, bool finished) noexcept;
  void write(Target& t, const RunRecord& r, bool finished);
  void fail(Target& t, const std::string& what);

  std::vector<Target> targets_;
  std::string proc_root_;
  Warn warn_;
  bool finished_ = false;
};

}  // namespace epochwatt::detail
