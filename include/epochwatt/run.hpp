// The run model: plain data for one tracked training run, shared by the tracker, every reporter,
// log parsing, `epochwatt parse` and the HTML report; and the two functions that turn it into
// figures: footprint() (energy and emissions of measured epochs) and predict() (the whole run
// from its first epochs).
//
// Terms (as the field uses them): IT energy is what the meters measured (the devices' own draw);
// facility energy is IT energy x PUE (power usage effectiveness: cooling, power conversion);
// gCO2e is grams of CO2 equivalent, facility energy in kWh x carbon intensity in gCO2e/kWh.
#pragma once

#include <chrono>
#include <compare>
#include <cstddef>
#include <deque>
#include <initializer_list>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "epochwatt/intensity.hpp"
#include "epochwatt/job.hpp"
#include "epochwatt/meter.hpp"

namespace epochwatt {

// Joules in a kilowatt-hour.
inline constexpr double kJoulesPerKwh = 3.6e6;
// 106.8 gCO2/km: average new passenger car in the EU, 2024 (European Environment Agency).
inline constexpr double kCarGramsPerKm = 106.8;

// The footprint of a stretch of training: measured (the actual, totals()) or predicted.
// Historical name: Consumption (carbontracker calls its report blocks "consumption").
struct Consumption {
  int epochs = 0;             // epochs predicted for, or epochs that ended
  double duration_s = 0.0;
  double energy_kwh = 0.0;    // facility energy: IT energy x PUE, kWh
  double co2_g = 0.0;         // gCO2e: energy_kwh x intensity_g_per_kwh
  double intensity_g_per_kwh = 0.0;  // carbon intensity, gCO2e/kWh (energy-weighted mean when it changed)
  std::string intensity_source;  // e.g. "embedded-table", "world-average", "fixed"
  bool intensity_forecast = false;
  double km_by_car = 0.0;     // co2_g / kCarGramsPerKm
};
using Footprint = Consumption;

// IT energy of one device (one meter) in one epoch.
struct DeviceEnergy {
  std::string meter_id;
  std::string device_name;
  Component component = Component::cpu;
  Method method = Method::simulated;
  double joules = 0.0;  // IT energy, J (without PUE)
  bool complete = true; // false: the meter failed or vanished inside this epoch
};

// One epoch as measured.
struct EpochSummary {
  int index = 0;            // 1-based
  double duration_s = 0.0;
  double joules = 0.0;      // IT energy, J: sum over devices, without PUE
  std::vector<DeviceEnergy> devices;
  bool interrupted = false; // still open at stop(); not counted in totals
};

// The epochs of a run, compact: the devices (meter id, device name, component, method) are kept
// once, as columns, and each epoch is one row of numbers: its 1-based index, duration (s), IT
// energy (J), and one double per device column (J). An epoch is ~84 bytes with 8 meters (4 + 8 +
// 8 + 8 x 8), against ~800 for an EpochSummary with its DeviceEnergy strings. Rows live in
// std::deque blocks, so growing never copies the table and the memory is what the rows hold.
//
// An EpochSummary is made on demand (operator[], iteration: by value); push_back() takes one. A
// device entry is matched to the first column with the same meter id, device name, component and
// method not yet used by that epoch, else a new column is added (the earlier rows hold no entry
// there): device entries come out in column order, which is the order they went in whenever the
// epochs list their devices in one order (the tracker's always do). The counted sums (epochs not
// interrupted) are kept as rows arrive, in row order, so totals cost O(devices), not O(epochs).
//
// Thread-safety: none; a const table may be read from several threads.
class EpochTable {
 public:
  // One device column: what every epoch's entry for it shares.
  struct Device {
    std::string meter_id;
    std::string device_name;
    Component component = Component::cpu;
    Method method = Method::simulated;
  };

  class const_iterator {
   public:
    using iterator_category = std::input_iterator_tag;  // yields values: a legacy input iterator
    using iterator_concept = std::random_access_iterator_tag;
    using value_type = EpochSummary;
    using difference_type = std::ptrdiff_t;
    using reference = EpochSummary;
    using pointer = void;
    const_iterator() = default;
    EpochSummary operator*() const { return (*table_)[i_]; }
    EpochSummary operator[](difference_type n) const { return (*table_)[i_ + static_cast<std::size_t>(n)]; }
    const_iterator& operator++() { ++i_; return *this; }
    const_iterator operator++(int) { auto old = *this; ++i_; return old; }
    const_iterator& operator--() { --i_; return *this; }
    const_iterator operator--(int) { auto old = *this; --i_; return old; }
    const_iterator& operator+=(difference_type n) { i_ += static_cast<std::size_t>(n); return *this; }
    const_iterator& operator-=(difference_type n) { i_ -= static_cast<std::size_t>(n); return *this; }
    friend const_iterator operator+(const_iterator it, difference_type n) { return it += n; }
    friend const_iterator operator+(difference_type n, const_iterator it) { return it += n; }
    friend const_iterator operator-(const_iterator it, difference_type n) { return it -= n; }
    friend difference_type operator-(const const_iterator& a, const const_iterator& b) {
      return static_cast<difference_type>(a.i_) - static_cast<difference_type>(b.i_);
    }
    friend bool operator==(const const_iterator& a, const const_iterator& b) { return a.i_ == b.i_; }
    friend auto operator<=>(const const_iterator& a, const const_iterator& b) { return a.i_ <=> b.i_; }
    std::size_t row() const { return i_; }

   private:
    friend class EpochTable;
    const_iterator(const EpochTable* t, std::size_t i) : table_(t), i_(i) {}
    const EpochTable* table_ = nullptr;
    std::size_t i_ = 0;
  };
  using iterator = const_iterator;
  using value_type = EpochSummary;
  using size_type = std::size_t;

  EpochTable() = default;
  EpochTable(std::initializer_list<EpochSummary> epochs);
  explicit EpochTable(const std::vector<EpochSummary>& epochs);
  EpochTable& operator=(const std::vector<EpochSummary>& epochs);

  void push_back(const EpochSummary& e);
  void clear();

  std::size_t size() const { return index_.size(); }
  bool empty() const { return index_.empty(); }
  // Row i made whole (i < size(); at() throws std::out_of_range beyond).
  EpochSummary operator[](std::size_t i) const;
  EpochSummary at(std::size_t i) const;
  EpochSummary front() const { return (*this)[0]; }
  EpochSummary back() const { return (*this)[size() - 1]; }
  const_iterator begin() const { return {this, 0}; }
  const_iterator end() const { return {this, size()}; }
  std::vector<EpochSummary> to_vector() const;

  // Row i's figures without making an EpochSummary (no allocation).
  int index(std::size_t i) const { return index_[i]; }
  double duration_s(std::size_t i) const { return duration_[i]; }
  double joules(std::size_t i) const { return joules_[i]; }
  bool interrupted(std::size_t i) const;
  // The device columns, in order; row i's joules in column c (nullopt: the epoch has no entry
  // for that device) and whether that entry is complete.
  const std::vector<Device>& devices() const { return devices_; }
  std::optional<double> device_joules(std::size_t i, std::size_t c) const;
  bool device_complete(std::size_t i, std::size_t c) const;
  // Rows that are interrupted, and (row, column) cells whose entry is incomplete, ascending.
  const std::vector<std::size_t>& interrupted_rows() const { return interrupted_; }
  const std::vector<std::pair<std::size_t, std::size_t>>& incomplete_cells() const { return incomplete_; }

  // The epochs not interrupted: their count, duration (s) and IT energy (J), summed in row order;
  // and each column's joules over them (the same order).
  int counted_epochs() const { return counted_; }
  double counted_s() const { return counted_s_; }
  double counted_joules() const { return counted_j_; }
  double counted_device_joules(std::size_t c) const { return counted_cells_[c]; }

  // Bytes the rows hold (the deques' blocks, an estimate within one block per column): for the
  // memory benchmark and its test.
  std::size_t row_bytes() const;

 private:
  std::size_t column_for(const DeviceEnergy& d, std::vector<bool>& used);

  std::deque<int> index_;
  std::deque<double> duration_, joules_;
  std::vector<Device> devices_;
  std::vector<std::deque<double>> cells_;  // per column; kNoEntry where the epoch has none
  std::vector<std::size_t> interrupted_;
  std::vector<std::pair<std::size_t, std::size_t>> incomplete_;
  int counted_ = 0;
  double counted_s_ = 0.0, counted_j_ = 0.0;
  std::vector<double> counted_cells_;
};

// The energy of a measurement window (Tracker::window_start/window_end): any stretch of code, in
// or between epochs, measured from the tracker's own meters and sampler.
struct WindowMeasurement {
  std::string name;
  double duration_s = 0.0;
  double joules = 0.0;                // IT energy: sum over devices, without PUE
  std::vector<DeviceEnergy> devices;  // one per meter, in the order of meters()
  double energy_kwh = 0.0;            // facility energy: joules x PUE / 3.6e6
  double co2_g = 0.0;                 // each intensity value weighted by the energy drawn while it held
  double intensity_g_per_kwh = 0.0;   // co2_g / energy_kwh (the current value when no energy was drawn)
  bool cut_by_stop = false;           // the tracker stopped first: measured until stop()
};

// Mean power of one meter over consecutive buckets, times in seconds since the tracker started:
// bucket i spans [i == 0 ? start_s : end_s[i-1], end_s[i]].
struct PowerSeries {
  std::string meter_id, device_name;
  Component component = Component::cpu;
  Method method = Method::simulated;
  double start_s = 0.0;
  std::vector<double> end_s, watts;
};

// The job's set-up: from the tracker's start (the CLI: the job's start) to the start of epoch 1
// (interpreter start-up, imports, data loading). Counted once in the actual, never multiplied by a
// prediction. A run whose first epoch starts at once (the CLI with an end regex alone) has a
// set-up of about zero: its first epoch includes the set-up (RunContext::first_epoch_includes_setup).
struct Setup {
  double duration_s = 0.0;
  double joules = 0.0;                // IT energy, J (without PUE)
  std::vector<DeviceEnergy> devices;  // one per meter
};

// How the whole run is predicted from the epochs measured so far (Options::prediction_rule).
enum class PredictionRule {
  // epochwatt's (default): the energy and time measured so far (set-up included) + the remaining
  // epochs x the mean of the steady epochs, plus recognised periodic extra work. Warm-up epochs
  // (a leading run of outliers) and one-off outliers are left out of the mean.
  steady_epochs,
  // carbontracker's (spec §6): planned epochs x the mean of the epochs so far; set-up ignored.
  carbontracker,
};
std::string_view to_string(PredictionRule r);  // "steady-epochs", "carbontracker"
// nullopt for an unknown name.
std::optional<PredictionRule> prediction_rule_from_string(std::string_view name);

// A closed range [low, high], same unit as the figure it bounds.
struct Range {
  double low = 0.0, high = 0.0;
};

// How a prediction was made, and how far it may be off.
struct PredictionDetail {
  PredictionRule rule = PredictionRule::steady_epochs;
  int after_epochs = 0;             // epochs ended when it was made
  int steady_epochs = 0;            // epochs the per-epoch mean came from
  std::vector<int> warmup_epochs;   // left out of the mean: the leading outliers (1-based)
  std::vector<int> outlier_epochs;  // left out of the mean: one-off outliers
  // Periodic extra work (validation every `period` epochs, first at `period_first`): its extra
  // time and energy per occurrence are added for each occurrence still to come. 0: none seen.
  int period = 0, period_first = 0, periodic_remaining = 0;
  double period_extra_s = 0.0, period_extra_joules = 0.0;
  // A trend: the steady epochs' least-squares slope in seconds and joules per epoch, used for the
  // epochs to come where it is significant (99 %, from 6 steady epochs on). 0: none.
  double trend_s_per_epoch = 0.0, trend_joules_per_epoch = 0.0;
  bool first_epoch_includes_setup = false;  // no epoch-start marker: epoch 1 began with the job
  double setup_s = 0.0, setup_joules = 0.0;  // counted once in the prediction (steady_epochs)
  // The range: `level` (0.9) of the predicted totals, from the spread of the steady epochs
  // (Student's t over the remaining epochs' sum and the mean's, or the trend line's, own error;
  // the low end also leaves out periodic work whose period was read from one occurrence). Unknown (range_known
  // false, ranges equal to the figure) with fewer than two steady epochs.
  double level = 0.9;
  bool range_known = false;
  Range duration_s, energy_kwh, co2_g;
};

// A prediction of the whole run: its footprint (time, facility energy, gCO2e) and how it was made.
struct Prediction {
  Consumption footprint;
  PredictionDetail detail;
};

// Who ran what, where, with which settings: fixed once the tracker has started. Written whole as
// the versioned "context" block of the JSON summary and of every JSON Lines record.
struct RunContext {
  std::string tool_name = "epochwatt";
  std::string version;
  std::string run_id;  // UUID v4 of the tracker; the same in every machine-readable output
  std::string host;    // gethostname()
  JobIdentity job;     // rank, node and job of this process (detect_job); "none" for a single process
  std::string os;      // uname: "Linux 6.1.0-..."
  long pid = 0;
  std::chrono::system_clock::time_point started;
  std::vector<MeterInfo> meters;
  std::vector<std::string> components;  // report components in order: "gpu", "cpu"
  bool process_tracking = false;        // the CPU estimate follows the process tree, not the machine
  double pue = 1.58;
  int epochs_planned = 0;
  int epochs_before_pred = 1;  // resolved: 0 = never
  int monitor_epochs = -1;     // resolved
  bool prediction_skips_first_epoch = false;
  PredictionRule prediction_rule = PredictionRule::steady_epochs;
  bool first_epoch_includes_setup = false;  // the CLI without an epoch-start regex
  double intensity_refresh_s = 900.0;
  int decimal_precision = 12;
  bool interpretable = true;
  // Options::job_reduction: rank 0's console shows the job's blocks, not this rank's.
  bool job_reduction = false;
};

// One run, as it stands (a snapshot at an epoch end) or finished (complete).
struct Run {
  RunContext context;
  // A snapshot taken at an epoch end (false) or the finished run (true). In a snapshot `actual`
  // holds the footprint of the epochs ended so far and `finished` the time of the snapshot.
  bool complete = true;
  std::chrono::system_clock::time_point finished;
  EpochTable epochs;  // interrupted epoch included (last), flagged
  // The set-up before epoch 1 (nullopt until epoch 1 starts, or stop() comes first). Included in
  // `actual`.
  std::optional<Setup> setup;
  // The prediction printed after epochs_before_pred epochs (carbontracker's Predicted block), and
  // how it was made.
  std::optional<Consumption> prediction;
  std::optional<PredictionDetail> prediction_detail;
  // The newest prediction: remade after every epoch (Tracker::prediction()).
  std::optional<Prediction> latest_prediction;
  // The footprint measured: the ended epochs plus the set-up (duration and energy include it;
  // `epochs` counts the epochs).
  std::optional<Consumption> actual;
  bool early_stop = false;
  Location location;
  IntensityValue intensity;              // the source used (the newest value)
  std::vector<double> intensity_values;  // every value held during the run
  std::vector<std::string> warnings;
  std::vector<PowerSeries> power_series;  // one per meter, at most ~1000 buckets each (at the end)
  // The log files' paths (empty without log_dir). The err log exists only once something was
  // logged there: readers check (the JSON summary writes null for it until then).
  std::string log_std, log_output, log_error;
};

// ---- accounting ----

// The footprint of `epochs` epochs that took `duration_s` and drew `it_joules` of IT energy, at
// `intensity_g_per_kwh`: facility energy = IT x PUE; gCO2e = facility kWh x intensity.
Consumption footprint(int epochs, double duration_s, double it_joules, double pue,
                      double intensity_g_per_kwh, std::string intensity_source = "");

// The footprint of the epochs that ended (interrupted ones are left out).
Consumption footprint_of_epochs(const std::vector<EpochSummary>& epochs, double pue,
                                double intensity_g_per_kwh, std::string intensity_source = "");
Consumption footprint_of_epochs(const EpochTable& epochs, double pue, double intensity_g_per_kwh,
                                std::string intensity_source = "");

// ---- prediction ----

// The epochs a prediction is made from: those that ended, among the first `after` (the resolved
// epochs_before_pred); with `skip_first` and more than one of them, the first is left out (it
// carries warm-up).
struct PredictionBasis {
  int epochs_used = 0;
  double duration_s = 0.0;    // summed over the epochs used
  double joules = 0.0;        // IT energy summed over the epochs used
  double measured_s = 0.0;    // total duration of every epoch the prediction saw (skipped one too)
};
PredictionBasis prediction_basis(const std::vector<EpochSummary>& epochs, int after, bool skip_first);
PredictionBasis prediction_basis(const EpochTable& epochs, int after, bool skip_first);

// carbontracker's prediction of the whole run (`planned` epochs): planned x the mean epoch's time
// and energy, at `intensity_g_per_kwh` (see predicted_intensity). An empty basis predicts zero.
Consumption predict(const PredictionBasis& basis, int planned, double pue, double intensity_g_per_kwh,
                    std::string intensity_source = "", bool intensity_forecast = false);

// Everything a prediction is made from besides the epochs.
struct PredictionInput {
  int planned = 0;  // the run's epochs (Options::epochs)
  double pue = 1.58;
  PredictionRule rule = PredictionRule::steady_epochs;
  bool skip_first = false;  // carbontracker rule only: Options::prediction_skips_first_epoch
  std::optional<Setup> setup;
  bool first_epoch_includes_setup = false;
  double level = 0.9;       // of the range, in (0, 1)
  // The ended epochs' count and sums when the caller keeps them (the tracker does), so that a
  // prediction costs the same at epoch 10 and at epoch 100,000; < 0: counted from `epochs`.
  int measured_epochs = -1;
  double measured_s = -1.0, measured_joules = -1.0;
};

// The statistics of a prediction look at the newest kPredictionWindow ended epochs at most (warm-up
// is recognised only while epoch 1 is among them); the totals so far count every epoch.
inline constexpr int kPredictionWindow = 1000;

// The whole run predicted from every epoch that ended in `epochs` (interrupted ones ignored), by
// input.rule, at zero intensity: time, facility energy and their ranges. Apply the intensity with
// with_intensity(). Zero epochs: a zero prediction with no range.
Prediction predict_run(const std::vector<EpochSummary>& epochs, const PredictionInput& input);
// The same from the run's table: reads the newest kPredictionWindow rows only when the caller
// gives the sums (input.measured_*), so that a prediction costs O(1) in the run's length.
Prediction predict_run(const EpochTable& epochs, const PredictionInput& input);
// Sets the gCO2e (and its range, and the km) of `p` at `g_per_kwh`.
void with_intensity(Prediction& p, double g_per_kwh, std::string source, bool forecast);

// carbontracker's intensity for a prediction: the mean of every live value stored so far and the
// value `ahead` (the forecast over the remaining time, else the current value), the latter counted
// once per started refresh period of the predicted duration.
double predicted_intensity(const std::vector<double>& live_values, double ahead, double predicted_s,
                           double refresh_s);

}  // namespace epochwatt
