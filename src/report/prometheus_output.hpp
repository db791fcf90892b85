// Prometheus text exposition (format 0.0.4) for node_exporter's textfile collector: cumulative
// energy and emissions as counters per component and device, power, prediction and progress as
// gauges, every series labelled with the run id. Metric list: docs/outputs.md.
#pragma once

#include <string>
#include <string_view>

#include "report/file_output.hpp"
#include "report/json_summary.hpp"

namespace epochwatt::detail {

// The whole file for the run as it stands (a snapshot or the finished run); no time stamps, as
// the textfile collector requires. Counters cover the counted epochs only.
std::string prometheus_text(const Run& r);

// A label value escaped as the exposition format requires: \ -> \\, " -> \", newline -> \n.
std::string prometheus_label_value(std::string_view value);
// A sample value: shortest round-trip decimal, "NaN", "+Inf" or "-Inf"; never locale-dependent.
std::string prometheus_number(double value);

// The textfile's shape for report/file_sink's replace_file: a non-empty file is ours when it
// starts with "# HELP epochwatt_", else it is another exporter's or someone's file, kept, and the
// textfile goes to a sibling STEM_1.prom.
RecordFormat prometheus_format();

// The textfile as a Reporter: rewritten atomically at each epoch end and at the end.
class PrometheusReporter final : public FileOutputReporter {
 public:
  explicit PrometheusReporter(std::string path, std::shared_ptr<FileSink> sink = nullptr)
      : FileOutputReporter("Prometheus output", std::move(path), std::move(sink)) {}
  void epoch_ended(const Run& run) override { write(run); }
  void run_finished(const Run& run) override { write(run); }

 private:
  void write(const Run& run);
};

}  // namespace epochwatt::detail
