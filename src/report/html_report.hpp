// A self-contained HTML report of one run: headline figures, power over time per component,
// energy per epoch, the prediction as epochs accrue against the measured energy, the devices and
// their methods, and a sentence with a BibTeX entry to cite in a paper. Charts are inline SVG
// written by html_charts.hpp; the page loads nothing from anywhere (its Content-Security-Policy forbids it),
// has no scripts, and prints to PDF through @media print. Pure functions: no I/O.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "epochwatt/run.hpp"
#include "report/ct_report.hpp"

namespace epochwatt::detail {

// Totals of a prediction or of a measured run, as the JSON summary holds them (kWh with PUE).
struct ReportFigures {
  bool present = false;
  int epochs = 0;
  double duration_s = 0.0;
  double energy_kwh = 0.0;
  double co2_g = 0.0;
  double intensity_g_per_kwh = 0.0;
  std::string intensity_source;
  double km_by_car = 0.0;
};

struct ReportComponentEnergy {
  std::string component;  // "gpu", "cpu", "dram"
  double joules = 0.0;    // without PUE
};

struct ReportEpoch {
  int index = 0;  // 1-based
  bool interrupted = false;
  double duration_s = 0.0;
  double joules = 0.0;  // without PUE
  std::vector<ReportComponentEnergy> by_component;
};

// After epoch k: the total energy predicted from the epochs so far (their mean x planned epochs
// x PUE) and the energy actually drawn so far (x PUE).
struct ReportPredictionPoint {
  int epoch = 0;
  double predicted_kwh = 0.0;
  double actual_kwh = 0.0;          // measured so far: the set-up and the epochs ended
  bool range_known = false;
  double low_kwh = 0.0, high_kwh = 0.0;  // the prediction's range (PredictionDetail::level)
};

// Mean power of one component (its devices summed) over consecutive time buckets; t_s is each
// bucket's middle, seconds since the tracker started.
struct ReportPowerSeries {
  std::string component;
  std::vector<double> t_s, watts;
};

struct ReportDevice {
  std::string meter_id, component, device, method, detail;
  double joules = 0.0;      // over the counted epochs, without PUE
  double duration_s = 0.0;  // of those epochs
  // What the device's figure covers besides its component (MeterInfo::also_covers and coverage),
  // in words; empty when nothing.
  std::string covers = {};
};

struct ReportData {
  std::string source;  // where the data came from (a path), shown in the header
  std::string tool = "epochwatt", version, host, started_utc, finished_utc;
  double pue = 1.58;
  int epochs_planned = 0;
  bool early_stop = false;
  ReportFigures actual, prediction;
  double intensity_g_per_kwh = 0.0;
  std::string intensity_source, intensity_description, location, location_rule;
  bool intensity_live = false;
  std::vector<std::string> methods;  // distinct, in device order
  std::vector<ReportEpoch> epochs;   // interrupted one (if any) last
  std::vector<ReportPredictionPoint> prediction_series;  // one per counted epoch
  std::vector<ReportPowerSeries> power;                  // one per component with samples
  std::string power_caption;  // what the power chart shows; empty: the meters' own readings
  std::vector<ReportDevice> devices;
  std::vector<std::string> warnings;
  // The sentence for a paper (citation_sentence): 4 significant digits, and which part of the
  // energy was measured and which estimated.
  std::string aggregate_sentence;
  // The headline's words for how the counted energy was obtained: "all measured", "all estimated,
  // not measured", "73.2% measured, 26.8% estimated"; empty when no energy was counted.
  std::string energy_basis;
  bool prediction_skips_first_epoch = false;  // the tracker's option: the curve follows it
  PredictionRule prediction_rule = PredictionRule::steady_epochs;  // the curve follows it too
  bool first_epoch_includes_setup = false;
  std::optional<Setup> setup;                   // before epoch 1; in the actual
  std::vector<std::string> prediction_lines;    // how the printed prediction was made, its range
  double prediction_level = 0.9;                // of the ranges in prediction_series
  std::string prediction_range;                 // the printed prediction's range, in words
  int decimal_precision = 12;                 // decimals of the run's log blocks
};

// Builds the model from a JSON summary (src/report/json_summary.cpp). Tolerant: a missing or
// mistyped field takes its default. Throws std::invalid_argument (one line) when `summary` is not
// an object with a "context" object.
ReportData report_data_from_json_summary(const nlohmann::json& summary);
// A footprint as the report shows it (present: the run has it).
ReportFigures report_figures(const std::optional<Consumption>& c);
// The report's model from the run model (what the JSON summary holds, read by run_json.hpp).
ReportData report_data_from_run(const Run& run);

// After each counted (not interrupted) epoch k of `epochs`: the total predicted for `planned`
// epochs (the counted ones if planned <= 0) from the mean of epochs 1..k, and the energy so far,
// both x `pue`, in kWh.
// The prediction as it would have been made after each counted epoch (predict_run with `how`;
// how.planned 0: the epochs seen).
std::vector<ReportPredictionPoint> prediction_series(const std::vector<ReportEpoch>& epochs, const PredictionInput& how);

// The sentence of spec §8.5 for given totals (16 decimals, CO2 in kg), naming epochwatt: what
// `epochwatt parse` prints, word for word as carbontracker does.
std::string aggregate_sentence(double kwh, double co2_g, double km_by_car);

// The HTML report's sentence for a paper: the figures with 4 significant digits (CO2 in kg), and
// never "measured" for an estimate. `basis` is how the counted energy was obtained; `predicted`:
// the figures are the prediction (monitoring ended before training did). Shapes:
//   measured: "... used 0.1235 kWh of electricity, measured (GPU: energy counter), contributing to
//             ... Measured by {by}."
//   estimated: "... is estimated to use ... kWh of electricity, not measured (CPU: TDP x
//             utilisation), contributing to ... Estimated by {by}."
//   mixed:    "... used ... kWh of electricity, of which 73.2% was measured (GPU: ...) and 26.8%
//             estimated (CPU: ...), contributing to ... Measured and estimated by {by}."
//   unknown (carbontracker's logs, which do not say): the original's wording, 4 digits.
//   predicted: "... is predicted to use ... kWh of electricity, extrapolated from epochs whose
//             energy was measured (...), contributing to ..."
// `equivalents`: {unit, value} ("km travelled by car"), joined by " or ".
std::string citation_sentence(double kwh, double co2_g, const std::vector<std::pair<std::string, double>>& equivalents,
                              const EnergyByBasis& basis, bool predicted, std::string_view by);
// The energy of `devices` (counted epochs) by basis; a method not named is "unknown".
EnergyByBasis energy_by_basis(const std::vector<ReportDevice>& devices);
// "all measured", "all estimated, not measured", "73.2% measured, 26.8% estimated"; "" for none.
std::string basis_words(const EnergyByBasis& basis);
// `value` as a report block with `decimals` decimals prints it, read back (what parse sees).
double as_logged(double value, int decimals);

// The BibTeX entry for Carbontracker (Anthony, Kanding, Selvan 2020, arXiv:2007.03051).
std::string carbontracker_bibtex();

// The whole page. Every string from the data is HTML-escaped; numbers ignore the global locale.
std::string render_html(const ReportData& data);

// & < > " ' as entities.
std::string html_escape(const std::string& text);

}  // namespace epochwatt::detail
