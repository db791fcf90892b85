// The text of carbontracker's report messages (spec §5.3, §6), built from epochwatt's figures.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "epochwatt/run.hpp"

namespace epochwatt::detail {

using epochwatt::kCarGramsPerKm;  // epochwatt/run.hpp (source there)

// "\n{title}\n\tTime:\t...\n\tEnergy:\t... kWh\n\tCO2eq:\t... g[\n\tThis is equivalent to:\n\t... km travelled by car]"
std::string consumption_block(const std::string& title, const Consumption& c, int precision,
                              bool interpretable);

// A report component ("gpu"/"cpu") and its device names, in report order; `methods`, when given,
// holds what the console shows beside each device (method_phrase: "estimate: TDP x utilisation").
struct ComponentDevices {
  std::string component;
  std::vector<std::string> devices;
  std::vector<std::string> methods = {};
};
// "GPU with device(s) a, b. CPU with device(s) cpu:0, dram:0." (spec §5.3, the logs' exact line);
// with methods, for the console: "CPU with device(s) AMD EPYC (estimate: TDP x utilisation)."
std::string components_segments(const std::vector<ComponentDevices>& components);

// The IT energy of a stretch of the run by how it was obtained (detail::basis_of), and which
// devices' methods made each part ("GPU: energy counter"), distinct, in device order.
struct EnergyByBasis {
  double measured_j = 0.0, estimated_j = 0.0, unknown_j = 0.0;
  std::vector<std::string> measured, estimated, unknown;
  double total_j() const { return measured_j + estimated_j + unknown_j; }
};
// Adds `joules` drawn by a device of `component` measured by `method`.
void add_energy(EnergyByBasis& e, Component component, Method method, double joules);
// Over every device entry of the counted (not interrupted) epochs and of the set-up.
EnergyByBasis energy_by_basis(const std::vector<EpochSummary>& epochs, const std::optional<Setup>& setup);
EnergyByBasis energy_by_basis(const EpochTable& epochs, const std::optional<Setup>& setup);
// One sentence that says which part of `what` ("this energy", "the energy it extrapolates") was
// measured and which estimated, with percentages of 3 significant digits:
// "Of this energy, all was measured (GPU: energy counter)." / "Of this energy, all was estimated,
// not measured (CPU: TDP x utilisation)." / "Of this energy, 73.2% was measured (GPU: energy
// counter) and 26.8% estimated (CPU: TDP x utilisation)." Empty when no energy was drawn.
std::string basis_sentence(const EnergyByBasis& e, const std::string& what = "this energy");
// The standard log's extension line for a meter that covers other components:
// "Coverage: NVIDIA GH200 480GB (nvml:0) covers cpu and dram as well as its gpu: {coverage}."
std::string coverage_line(const MeterInfo& m);

// Per-epoch standard-log lines for one component: the carbontracker power line (component total,
// plain fixed scalar) and epochwatt's extension line with per-device values and methods.
std::vector<std::string> epoch_component_lines(const std::string& component,
                                               const std::vector<DeviceEnergy>& devices,
                                               double duration_s);

// epochwatt's extension lines after a Predicted block (console and output log; carbontracker's
// parser skips them): the rule and what it left out, then the range or why it is unknown.
std::vector<std::string> prediction_lines(const Consumption& c, const PredictionDetail& d);
// The one line of a prediction that left the range of the last one printed (prediction_updates).
std::string prediction_moved_line(const Consumption& c, const PredictionDetail& d);
// "Set-up before epoch 1: 0:00:03.54 and 152.3 J (included in the actual; never multiplied)."
std::string setup_line(const Setup& s);

// The PUE line of the standard log's header.
std::string pue_line(double pue);

}  // namespace epochwatt::detail
