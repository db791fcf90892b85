#include <algorithm>
#include <cctype>
#include <cmath>

#include "core/listen_address.hpp"
#include "epochwatt/errors.hpp"
#include "epochwatt/limits.hpp"
#include "epochwatt/options.hpp"

namespace epochwatt {

std::vector<std::string> parse_components(const std::string& components) {
  std::string s;
  for (char c : components)
    if (!std::isspace(static_cast<unsigned char>(c)))
      s += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (s == "all") return {"gpu", "cpu"};
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= s.size()) {
    std::size_t comma = s.find(',', start);
    std::string name = s.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (name != "gpu" && name != "cpu")
      throw OptionsError("No component found with name '" + name + "'.");
    if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(name);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

void validate(const Options& o) {
  if (o.epochs <= 0) throw OptionsError("epochs must be a positive number of epochs, got " + std::to_string(o.epochs) + ".");
  if (o.monitor_epochs != -1) {
    // carbontracker's order: "less than" (against the value given) before "zero".
    if (o.monitor_epochs < o.epochs_before_pred)
      throw OptionsError("monitor_epochs cannot be less than epochs_before_pred");
    if (o.monitor_epochs == 0) throw OptionsError("monitor_epochs cannot be zero");
    if (o.monitor_epochs < -1) throw OptionsError("monitor_epochs must be -1 or a positive number.");
    // epochs_before_pred = -1 means after all `epochs` epochs here (spec D12).
    int before = o.epochs_before_pred == -1 ? o.epochs : o.epochs_before_pred;
    if (o.monitor_epochs < before)
      throw OptionsError("monitor_epochs cannot be less than epochs_before_pred");
  }
  if (o.epochs_before_pred < -1) throw OptionsError("epochs_before_pred must be -1, 0 or a positive number.");
  if (!(o.update_interval > 0) || !(o.update_interval <= limits::kMaxIntervalS))
    throw OptionsError("update_interval must be a positive number of seconds, at most 86400 (one day).");
  if (o.decimal_precision < 0 || o.decimal_precision > 100)
    throw OptionsError("decimal_precision must be between 0 and 100.");
  if (!(o.pue >= 1.0) || !std::isfinite(o.pue)) throw OptionsError("pue must be a finite number >= 1.0.");
  if (o.pue > limits::kMaxPue)
    throw OptionsError("pue must be at most 10 (no data centre survey reports one above 3).");
  if (!(o.prediction_level > 0.0 && o.prediction_level < 1.0))
    throw OptionsError("prediction_level must be between 0 and 1 (0.9 = a 90 % range).");
  if (o.intensity_g_per_kwh && !(*o.intensity_g_per_kwh >= 0 && *o.intensity_g_per_kwh <= limits::kMaxIntensityGPerKwh))
    throw OptionsError("carbon intensity must be a number of gCO2e/kWh from 0 to 2000 (twice coal's life-cycle figure).");
  if (!o.country.empty() && (o.country.size() != 2 || !std::isalpha(static_cast<unsigned char>(o.country[0])) ||
                             !std::isalpha(static_cast<unsigned char>(o.country[1]))))
    throw OptionsError("country '" + o.country + "' is not an ISO 3166-1 alpha-2 code such as DK.");
  if (!o.zone.empty() && o.zone.find_first_of(" \t") != std::string::npos)
    throw OptionsError("zone '" + o.zone + "' is not an Electricity Maps zone id such as DK-DK1.");
  if (auto colon = o.cloud.find(':'); !o.cloud.empty() && (colon == std::string::npos || colon == 0 || colon + 1 == o.cloud.size()))
    throw OptionsError("cloud '" + o.cloud + "' is not a cloud region of the form provider:region, such as gcp:europe-west1.");
  if (o.latitude.has_value() != o.longitude.has_value())
    throw OptionsError("latitude and longitude must be given together.");
  if (o.latitude && (!std::isfinite(*o.latitude) || *o.latitude < -90 || *o.latitude > 90))
    throw OptionsError("latitude must be between -90 and 90 degrees.");
  if (o.longitude && (!std::isfinite(*o.longitude) || *o.longitude < -180 || *o.longitude > 180))
    throw OptionsError("longitude must be between -180 and 180 degrees.");
  if (!(o.intensity_refresh_s >= 60 && o.intensity_refresh_s <= limits::kMaxIntervalS))
    throw OptionsError("intensity_refresh_s must be from 60 to 86400 seconds (one day).");
  for (const auto& name : o.live_providers)
    if (name != "none" && name != "electricitymaps" && name != "carbonintensity.org.uk" && name != "energidataservice")
      throw OptionsError("unknown live intensity provider '" + name +
                         "' (known: electricitymaps, carbonintensity.org.uk, energidataservice, none).");
  parse_components(o.components);
  if (!o.metrics_listen.empty()) (void)detail::parse_listen_address(o.metrics_listen);

  // carbontracker's simulation rules and messages (tracker.py 2.4.3).
  if (o.sim_cpu) {
    if (o.sim_cpu->empty()) throw OptionsError("CPU name must be a non-empty string.");
    if (!o.sim_cpu_tdp)
      throw OptionsError("When using simulated CPU (sim_cpu), you must also specify the CPU TDP (sim_cpu_tdp)");
  }
  if (o.sim_cpu_tdp && (!(*o.sim_cpu_tdp >= 0) || !std::isfinite(*o.sim_cpu_tdp)))
    throw OptionsError("CPU TDP must be a non-negative number.");
  if (o.sim_cpu_tdp && *o.sim_cpu_tdp > limits::kMaxDeviceWatts)
    throw OptionsError("CPU TDP must be at most 50000 W (above any one device).");
  if (!(o.sim_cpu_util >= 0.0 && o.sim_cpu_util <= 1.0))
    throw OptionsError("CPU utilization must be between 0.0 and 1.0.");
  if (o.sim_gpu) {
    if (o.sim_gpu->empty()) throw OptionsError("GPU name must be a non-empty string.");
    if (!o.sim_gpu_watts)
      throw OptionsError("When using simulated GPU (sim_gpu), you must also specify the GPU power consumption (sim_gpu_watts)");
  }
  if (o.sim_gpu_watts && (!(*o.sim_gpu_watts >= 0) || !std::isfinite(*o.sim_gpu_watts)))
    throw OptionsError("GPU watts must be a non-negative number.");
  if (o.sim_gpu_watts && *o.sim_gpu_watts > limits::kMaxDeviceWatts)
    throw OptionsError("GPU watts must be at most 50000 W (above any one device).");
  if (!(o.sim_gpu_util >= 0.0 && o.sim_gpu_util <= 1.0))
    throw OptionsError("GPU utilization must be between 0.0 and 1.0.");
  if (!(o.replay_offset_s >= 0 && o.replay_offset_s <= limits::kMaxReplayOffsetS))
    throw OptionsError("replay_offset_s must be a number of seconds from 0 to 1e9.");
  for (std::size_t i = 0; i < o.outputs.size(); ++i) {
    const OutputSpec& out = o.outputs[i];
    if (out.format != OutputSpec::Format::csv && out.format != OutputSpec::Format::jsonl &&
        out.format != OutputSpec::Format::prometheus)
      throw OptionsError("outputs: unknown format; use csv, jsonl or prometheus.");
    if (out.path.empty()) throw OptionsError("outputs: an output has an empty path.");
    for (std::size_t k = 0; k < i; ++k)
      if (o.outputs[k].path == out.path)
        throw OptionsError("outputs: '" + out.path + "' is given twice; each output needs its own file.");
  }
}

}  // namespace epochwatt
