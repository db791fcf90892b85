// Reader of carbontracker-format log files (carbontracker 2.3, 2.4 and epochwatt's own) and the
// aggregate of many runs, as `carbontracker --parse DIR` prints it (spec §5, §6, §8, §12, §13).
//
// The reader follows the original parser's rules (tests/compat/ct_parser.py re-implements them)
// and corrects its defects (spec §8.7, D22-D25): the real epoch count of the actual block,
// scientific notation and numpy arrays in power lines, device names with dots, runs stopped early
// in 2.3 and 2.4, and broken files, which are skipped with one warning each instead of stopping
// the whole aggregate. Matching is hand-written (no std::regex), so lines of any length are safe.
//
// Thread-safety: free functions on values; no shared state. docs/parse.md describes the rules.
#pragma once

#include <cstddef>
#include <exception>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "epochwatt/job.hpp"

namespace epochwatt::detail {

// The endings of a run's two log file names (`{prefix_}{pid}.{id}_{stamp}` + suffix, spec §5).
inline constexpr std::string_view kStandardLogSuffix = "_carbontracker.log";
inline constexpr std::string_view kOutputLogSuffix = "_carbontracker_output.log";

// One component of the components line ("The following components were found: GPU with
// device(s) a, b. CPU with device(s) cpu:0, dram:0.").
struct ParsedComponent {
  std::string name;                  // lower-cased NAME: "gpu", "cpu"
  std::vector<std::string> devices;  // trimmed; dots inside names kept (D24)
};

// One `Average power usage (W) for {component}: {value}` line of an epoch, with epochwatt's
// extension line `Power by device (W) for {component} [{methods}]: name=W; name=W` if present.
struct ParsedPower {
  std::string component;
  // Component power in W = sum over devices (spec §8.7: the sum of an array's values);
  // nullopt when the log says None, [None] or nan.
  std::optional<double> watts;
  // Per-device powers in W, in device order: from a numpy array `[a b ...]` (≤1.2.x) or from
  // the extension line. Empty when the log gives only the component total.
  std::vector<double> device_watts;
  std::vector<std::string> device_names;  // from the extension line only; else empty
  std::string method;                     // "counter", "estimate", ... (extension line); else ""
};

struct ParsedEpoch {
  int index = 0;                     // from `Epoch {n}:`; else the position, 1-based
  std::optional<double> duration_s;  // `Duration:`; for an interrupted epoch its partial time
  std::vector<ParsedPower> powers;   // in log order
  // epochwatt's `Interrupted epoch {n} (not counted): ran {t} and drew {J} J.`: an epoch still
  // open at stop(); not in the original's arrays, not counted in epochs_done().
  bool interrupted = false;
  std::optional<double> interrupted_joules;

  const ParsedPower* power(std::string_view component) const;  // nullptr if absent
  // Energy in J without PUE: component watts x duration summed (interrupted: the logged joules).
  double joules() const;
};

// One report block of the output log (spec §6).
struct ParsedConsumption {
  // Predicted: the count of the title. Actual: the real count (D22): the title's count, or the
  // standard log's number of completed epochs when the title has none (`Actual consumption:`)
  // or when an early-stopped carbontracker log under-counts it (D10).
  int epochs = 0;
  std::optional<int> title_epochs;   // the number in the title, if any
  std::optional<double> duration_s;  // `Time:`
  double energy_kwh = 0.0;           // x PUE, as printed
  double co2_g = 0.0;
  std::optional<double> km;          // the `km travelled by car` equivalent
  std::vector<std::pair<std::string, double>> equivalents;  // every {unit: value}, in order
};

// epochwatt's `Measuring {device} ({component}) by {method} through meter {id}[: {detail}].`
struct ParsedMeter {
  std::string device;
  std::string component;  // as written: "gpu", "cpu", "dram" (not carbontracker's grouping)
  std::string method;     // "counter", "estimate", ...
  std::string meter;      // the meter's id, e.g. "nvml:0"
};

struct ParsedRun {
  std::string std_log, output_log;  // paths
  std::string id;                   // the file names' common part: `{prefix_}{pid}.{id}_{stamp}`
  std::string version;              // "2.3", "2.4" (any carbontracker X.Y), "epochwatt", "unknown"
  std::string tool;                 // the `{tool} version {x}` line's tool; "" without that line
  std::string tool_version;         // the whole `{tool} version {x}` value, e.g. "2.4.3"
  std::vector<ParsedComponent> components;
  std::vector<ParsedMeter> meters;  // epochwatt's `Measuring` lines, in log order
  // epochwatt's `Job identity: {...}` line (job_line.hpp): only in the logs of a multi-process
  // job's ranks; nullopt otherwise (and for an unreadable line, with a note).
  std::optional<JobIdentity> job;
  // epochwatt's `Job shared meters: {...}` line (job_line.hpp): the ids of the meters this rank
  // shared with the job's other processes through the node election; empty without the line.
  std::vector<std::string> shared_meters;
  std::vector<ParsedEpoch> epochs;  // completed and interrupted, in log order
  std::optional<ParsedConsumption> predicted, actual;
  bool early_stop = false;             // `Training was interrupted` anywhere in the std log
  std::optional<int> monitor_epochs;   // M of `... before all {M} epochs ...` when M > 0
  std::optional<double> pue;           // `PUE coefficient of {x}`
  std::vector<double> intensities;     // `Carbon intensities (...) ...: [a, b]`
  std::optional<double> average_intensity;  // `Average carbon intensity during training was {x}`
  std::string intensity_source_line;   // epochwatt's `Intensity source: ...` text, or the
                                       // original's `Carbon intensity[ fetched]: ...` text
  std::string address;                 // the detected location, as logged
  std::string started, finished;       // the standard log's first and last time stamps,
                                       // `YYYY-MM-DD HH:MM:SS` (local time, as logged)
  std::vector<std::string> notes;      // about the standard log: non-fatal oddities and records
                                       // left out for an out-of-range value ("line N: ...")
  std::vector<std::string> output_notes;  // the same about the output log (an unreadable or
                                          // negative equivalent, a block left out)
  // epochwatt's `Set-up before epoch 1: {H:MM:SS.ss} and {J} J ...` (std log): seconds, joules.
  std::optional<std::pair<double, double>> setup;
  // epochwatt's `Prediction rule: {name}: ...` after the Predicted block (output log); "" without.
  std::string prediction_rule;

  int epochs_done() const;  // completed (not interrupted) epochs in the standard log
};

struct ParseWarning {
  std::string file, message;  // file: the path the warning is about
};

// Thrown by parse_log_pair for a pair that cannot be read as one run; what() is one line that
// names the file.
class LogParseError : public std::exception {
 public:
  LogParseError(std::string file, std::string message);
  const char* what() const noexcept override { return text_.c_str(); }
  const std::string& file() const { return file_; }
  const std::string& message() const { return message_; }

 private:
  std::string file_, message_, text_;
};

// Reads one pair. Throws LogParseError for an unreadable, empty, binary, truncated or
// inconsistent file, or two files that describe different runs.
ParsedRun parse_log_pair(const std::string& std_path, const std::string& output_path);

// Reads a standard log alone, as carbontracker's `--report` does: the run has no predicted or
// actual block (output_log empty). Throws LogParseError as parse_log_pair does.
ParsedRun parse_standard_log(const std::string& std_path);

// Every run in `dirs`, as for_each_log_run reads them, held in one vector. Standard logs end in `_carbontracker.log`, output logs in
// `_carbontracker_output.log` (whole names, D25; err logs and rotated `.log.1` files are not
// logs); a pair shares the text before the suffix. Files that cannot be paired or read are
// skipped with one warning each (if `warnings` is not null). Runs come in the order of the
// directories, then of the output logs' names (the original's order). A folder at another level
// is read too: a log file (its run), a folder without pairs (its subfolders that hold pairs, one
// level down, with a warning naming them); none at either level gives a warning that names the
// folder to give. Records with an out-of-range value are left out (notes, "line N: ...").
std::vector<ParsedRun> parse_log_dirs(const std::vector<std::string>& dirs,
                                      std::vector<ParseWarning>* warnings);

// The streaming form of parse_log_dirs (the same runs, warnings and order): `on_run` receives each
// run as soon as it is read and may move from it; `on_warning` (may be empty) each warning where
// parse_log_dirs would record it. Memory: one run at a time, plus one folder's listing (the names
// of its runs, about 60 bytes per run) and the canonical paths read so far (to read a file given
// twice once). Discovery lists each folder once (readdir: d_type, no stat per regular file) and
// pairs the logs by sorting their names; a run then costs open, fstat, read and close per file.
void for_each_log_run(const std::vector<std::string>& dirs, const std::function<void(ParsedRun&)>& on_run,
                      const std::function<void(ParseWarning&&)>& on_warning);

enum class SummedBlock { none, predicted, actual };
std::string_view to_string(SummedBlock b);

// Which block of a run the aggregate adds (spec §8.7): the actual block if the run stopped early,
// if its real epoch count equals (or exceeds) the predicted one, or if there is no prediction; the predicted
// block if there is no actual block, or if monitoring ended before the predicted epochs without
// an early stop.
SummedBlock summed_block(const ParsedRun& run);

struct Aggregate {
  double energy_kwh = 0.0;
  double co2_g = 0.0;
  std::vector<std::pair<std::string, double>> equivalents;  // unit -> total, first-seen order
  std::size_t runs = 0;         // runs given
  std::size_t runs_summed = 0;  // runs with a block added
  std::size_t nan_skipped = 0;  // blocks whose energy or CO2 was NaN (that value left out)
  std::string measured_by;      // measured_by(runs): the sentence's credit
};

// Sums the runs by the rule of summed_block(). NaN energy or CO2 is left out and counted.
Aggregate aggregate(const std::vector<ParsedRun>& runs);

// aggregate(), one run at a time: add() each run in order, result() at any point equals
// aggregate() of the runs added so far. Holds the sums only (constant memory per run).
// Thread-safety: none; one Aggregator per thread.
class Aggregator {
 public:
  void add(const ParsedRun& run);
  Aggregate result() const;

 private:
  Aggregate a_;
  std::size_t ours_ = 0;  // runs whose log is epochwatt's
};

// The original's print_aggregate sentence (spec §8.5), 16 decimals, CO2 in kg, no newline, ending
// "Measured by {measured_by}.".
inline constexpr std::string_view kMeasuredByCarbontracker = "carbontracker (https://github.com/lfwa/carbontracker)";
inline constexpr std::string_view kMeasuredByEpochwatt =
    "epochwatt, an implementation of carbontracker (https://github.com/lfwa/carbontracker)";
// An empty `measured_by` takes a.measured_by, else carbontracker's.
std::string aggregate_sentence(const Aggregate& a, std::string_view measured_by = {});
// Who measured `runs`: epochwatt when every run's log is epochwatt's, else carbontracker (the
// original's sentence, word for word), or both when the runs are mixed.
std::string measured_by(const std::vector<ParsedRun>& runs);
// The same from the counts: `epochwatt_runs` of `runs` were written by epochwatt.
std::string measured_by_counts(std::size_t epochwatt_runs, std::size_t runs);

// Helpers, exposed for tests: a float as Python's float() reads it (scientific, nan, inf;
// surrounding blanks allowed); and `[-]H:MM:SS[.ss]` to seconds.
std::optional<double> parse_float(std::string_view text);
std::optional<double> parse_hms(std::string_view text);

}  // namespace epochwatt::detail
