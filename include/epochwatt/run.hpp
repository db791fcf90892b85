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
#include <optional>
#include <string>
#include <vector>

#include "epochwatt/intensity.hpp"
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

// Who ran what, where, with which settings: fixed once the tracker has started. Written whole as
// the versioned "context" block of the JSON summary and of every JSON Lines record.
struct RunContext {
  std::string tool_name = "epochwatt";
  std::string version;
  std::string run_id;  // UUID v4 of the tracker; the same in every machine-readable output
  std::string host;    // gethostname()
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
  double intensity_refresh_s = 900.0;
  int decimal_precision = 12;
  bool interpretable = true;
};

// One run, as it stands (a snapshot at an epoch end) or finished (complete).
struct Run {
  RunContext context;
  // A snapshot taken at an epoch end (false) or the finished run (true). In a snapshot `actual`
  // holds the footprint of the epochs ended so far and `finished` the time of the snapshot.
  bool complete = true;
  std::chrono::system_clock::time_point finished;
  std::vector<EpochSummary> epochs;  // interrupted epoch included (last), flagged
  std::optional<Consumption> prediction;
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

// carbontracker's prediction of the whole run (`planned` epochs): planned x the mean epoch's time
// and energy, at `intensity_g_per_kwh` (see predicted_intensity). An empty basis predicts zero.
Consumption predict(const PredictionBasis& basis, int planned, double pue, double intensity_g_per_kwh,
                    std::string intensity_source = "", bool intensity_forecast = false);

// carbontracker's intensity for a prediction: the mean of every live value stored so far and the
// value `ahead` (the forecast over the remaining time, else the current value), the latter counted
// once per started refresh period of the predicted duration.
double predicted_intensity(const std::vector<double>& live_values, double ahead, double predicted_s,
                           double refresh_s);

}  // namespace epochwatt
