// A CodeCarbon-compatible emissions.csv: CodeCarbon's 38 columns in CodeCarbon's order, one row
// per run, appended, so that tools reading CodeCarbon's file read ours. Fields epochwatt cannot
// know are left empty, never invented. Units and every column's source: docs/outputs.md.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

#include "report/file_output.hpp"
#include "report/json_summary.hpp"

namespace epochwatt::detail {

inline constexpr std::array<std::string_view, 38> kCodeCarbonColumns = {
    "timestamp",       "project_name",       "run_id",           "experiment_id",
    "duration",        "emissions",          "emissions_rate",   "cpu_power",
    "gpu_power",       "ram_power",          "cpu_energy",       "gpu_energy",
    "ram_energy",      "energy_consumed",    "water_consumed",   "country_name",
    "country_iso_code", "region",            "cloud_provider",   "cloud_region",
    "os",              "python_version",     "codecarbon_version", "cpu_count",
    "cpu_model",       "gpu_count",          "gpu_model",        "longitude",
    "latitude",        "ram_total_size",     "tracking_mode",    "cpu_utilization_percent",
    "gpu_utilization_percent", "ram_utilization_percent", "ram_used_gb", "on_cloud",
    "pue",             "wue"};

// epochwatt's columns after CodeCarbon's: which process of which job wrote the row (docs/cluster.md,
// docs/outputs.md). A file that holds CodeCarbon's 38 columns alone (written before they were
// added) gets rows of those 38 (codecarbon_format(false)).
inline constexpr std::array<std::string_view, 6> kJobColumns = {"job_id", "step_id", "rank", "local_rank",
                                                                 "world_size", "node"};
inline constexpr std::size_t kCsvColumnCount = kCodeCarbonColumns.size() + kJobColumns.size();

// Facts about the machine that CodeCarbon records and the Run does not hold.
struct HostFacts {
  std::string os;                       // "Linux-6.1.0-18-amd64-x86_64" (uname), CodeCarbon's platform()
  std::optional<int> cpu_count;         // logical CPUs online
  std::string cpu_model;                // /proc/cpuinfo "model name"; empty when unreadable
  std::optional<double> ram_total_gib;  // /proc/meminfo MemTotal in GiB, as CodeCarbon's GB
};

// Reads the facts of this machine; proc_root is the /proc to read (injectable for tests).
HostFacts read_host_facts(const std::string& proc_root);

// The header line, "timestamp,project_name,...,wue,job_id,...,node\n" (job_columns false: CodeCarbon's
// 38 alone, "...,wue\n").
std::string codecarbon_header(bool job_columns = true);
// One row (with "\n") for a finished run: energy in kWh and emissions in kg, both with PUE, as
// epochwatt's totals; powers in W, mean of each component over the counted epochs, without PUE;
// then the job's columns (kJobColumns) unless job_columns is false.
std::string codecarbon_row(const Run& r, const HostFacts& host, bool job_columns = true);

// The CSV's shape for report/file_sink's append_record: our header; a file with another first line
// is foreign (kept, the row goes to a sibling); a last line without "\n" is a whole row when its
// quotes are balanced and it has the header's number of fields (kCsvColumnCount, or 38 without
// the job columns), else a cut one, ended (an open quoted field closed first) so that the next row
// starts on its own line.
RecordFormat codecarbon_format(bool job_columns = true);

// RFC 4180 quoting: a field with a comma, a quote, CR or LF is quoted, quotes doubled.
std::string csv_field(std::string_view value);

// The CSV as a Reporter: one row appended when the run finishes.
class CsvReporter final : public FileOutputReporter {
 public:
  CsvReporter(std::string path, std::string proc_root, std::shared_ptr<FileSink> sink = nullptr)
      : FileOutputReporter("CSV output", std::move(path), std::move(sink)), proc_root_(std::move(proc_root)) {}
  void run_finished(const Run& run) override;

 private:
  std::string proc_root_;
};

}  // namespace epochwatt::detail
