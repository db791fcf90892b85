// Options of a tracked run: every carbontracker option (same names, same defaults, same
// validation messages) plus epochwatt's extensions. See docs/options.md for the full table.
#pragma once

#include <iosfwd>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "epochwatt/clock.hpp"
#include "epochwatt/job.hpp"
#include "epochwatt/meter.hpp"
#include "epochwatt/run.hpp"

namespace epochwatt {

class IntensityProvider;

// One machine-readable output of a run (docs/outputs.md). csv: a CodeCarbon-compatible
// emissions.csv row per run, appended; jsonl: one JSON line per epoch and one per run, appended;
// prometheus: a node_exporter textfile, rewritten atomically at each epoch end and at the end.
struct OutputSpec {
  enum class Format { csv, jsonl, prometheus };
  Format format = Format::csv;
  std::string path;
};

// Plain data; copy freely. Validated by the Tracker constructor (OptionsError on bad values).
struct Options {
  // ---- carbontracker's options (tracker.py 2.4.3 semantics, defects fixed as the spec lists) ----
  int epochs = 0;                 // required, > 0
  int epochs_before_pred = 1;     // 0: no prediction; -1: predict after all `epochs` epochs
  int monitor_epochs = -1;        // -1: `epochs`; actual report and shutdown after this epoch
  double update_interval = 1.0;   // seconds between sampler rounds (default meter period)
  bool interpretable = true;      // append the km-by-car equivalent
  bool stop_and_confirm = false;  // ask "Continue training (y/n)?" after the prediction
  bool ignore_errors = false;     // usage errors are logged instead of thrown
  std::string components = "all"; // comma list of gpu,cpu; "all" = gpu,cpu
  bool devices_by_pid = false;    // GPUs used by this process tree only (real GPU backends)
  std::optional<std::string> log_dir;  // none: console only
  std::string log_file_prefix;
  int verbose = 1;                // 0 silences the output channel on the console; -1 (--quiet) INFO lines too
  int decimal_precision = 12;     // decimals of kWh, g and km in the report blocks
  std::optional<std::string> sim_cpu;
  std::optional<double> sim_cpu_tdp;
  double sim_cpu_util = 0.5;
  std::optional<std::string> sim_gpu;
  std::optional<double> sim_gpu_watts;
  double sim_gpu_util = 0.5;

  // ---- epochwatt extensions ----
  double pue = 1.58;  // Uptime Institute Global Data Center Survey 2023
  // Leave the first epoch out of the prediction's mean when more than one epoch was measured
  // (it carries warm-up). Off by default, as the spec requires.
  bool prediction_skips_first_epoch = false;
  // The prediction's rule (docs/prediction.md): steady_epochs (the measured set-up and epochs +
  // the remaining epochs x the mean steady epoch; warm-up and one-off outliers left out, periodic
  // extra work recognised) or carbontracker's (planned epochs x the mean epoch, the original's
  // figures). A prediction is remade after every epoch; the Predicted block is printed once.
  PredictionRule prediction_rule = PredictionRule::steady_epochs;
  // The share of the prediction's range, in (0, 1): 0.9 = a 90 % range.
  double prediction_level = 0.9;
  // Print one short line each time a later prediction leaves the range of the last one printed.
  bool prediction_updates = false;
  // Epoch 1 starts with the job itself (the CLI with an end regex alone): the prediction says
  // that its first epoch includes the set-up.
  bool first_epoch_includes_setup = false;

  // Carbon intensity (docs/intensity.md). Sources, first that answers: a fixed value; the live
  // providers suited to the location (Electricity Maps with a key; carbonintensity.org.uk in Great
  // Britain; Energi Data Service in Denmark), through the cache; the cloud-region table; the
  // embedded country table; the 2024 world average. Live answers arrive on a background thread:
  // the run starts on the offline value and never waits for the network.
  std::optional<double> intensity_g_per_kwh;
  // Location. Any of these set by the caller locates the run ("option"); else the environment
  // (EPOCHWATT_COUNTRY, _ZONE, _POSTCODE, _LAT/_LON, _CLOUD); else the config file; else IP
  // geolocation (unless offline or geolocate is false); else none (world average).
  std::string country;   // ISO 3166-1 alpha-2, e.g. "DK"
  std::string zone;      // Electricity Maps zone, e.g. "DK-DK1", "US-CAL-CISO"
  std::string postcode;  // Great Britain, outward part used ("RG10")
  std::optional<double> latitude, longitude;
  std::string cloud;     // "gcp:europe-west1" (cloud-region table)
  bool offline = false;  // no network: the cache and the embedded tables only
  bool geolocate = true; // IP geolocation when nothing else locates the run
  // Live providers in order, by name ("electricitymaps", "carbonintensity.org.uk",
  // "energidataservice"); empty: every one suited to the location; {"none"}: no live provider.
  std::vector<std::string> live_providers;
  // API keys by provider name ("electricitymaps"), as carbontracker's api_keys; these win over
  // the environment and the config file. Never logged, never written into a report.
  std::map<std::string, std::string> api_keys;
  // Base URLs by provider name ("electricitymaps", "carbonintensity.org.uk", "energidataservice",
  // "geolocation"): proxies and tests. Empty: each API's public address.
  std::map<std::string, std::string> provider_urls;
  std::string config_file;  // empty: EPOCHWATT_CONFIG, else $XDG_CONFIG_HOME/epochwatt/config.ini
  std::string cache_dir;    // empty: $XDG_CACHE_HOME/epochwatt; "none": no cache
  double intensity_refresh_s = 900.0;  // background refresh period (carbontracker: 900 s)
  // Providers tried before the built-in ones (any IntensityProvider); may be empty.
  std::vector<std::shared_ptr<IntensityProvider>> intensity_providers;

  // Replay a recorded trace (columns t_s,power_mw,energy_mj) as a meter of this component.
  std::optional<std::string> replay_trace;
  Component replay_component = Component::gpu;
  bool replay_use_power = false;  // integrate power_mw instead of reading energy_mj
  double replay_offset_s = 0.0;   // trace time that corresponds to the tracker's start

  // Hardware backends. The roots are injectable so tests run against fake trees.
  std::string powercap_root = "/sys/class/powercap";  // RAPL zones
  std::string drm_root = "/sys/class/drm";            // hwmon GPUs (AMD, Intel)
  std::string proc_root = "/proc";                    // estimates: cpuinfo, stat, meminfo
  // RAPL domains: "package", "dram", "core", "uncore", "psys" (never a parent with its child).
  std::vector<std::string> rapl_domains = {"package", "dram"};
  // CPU estimate from the tracked process tree's utilisation instead of the whole machine's.
  bool estimate_process_tree = false;
  // NVML library to dlopen; empty: EPOCHWATT_NVML_LIBRARY, else libnvidia-ml.so.1.
  std::string nvml_library;
  // Backend options that have no member of their own above, by name, as a user writes them
  // ("0.5", "package,dram", "true"): a backend that declares such an option reads it from here
  // (epochwatt/registry.hpp, BackendOption). A name no backend declares is an OptionsError.
  std::map<std::string, std::string> backend_options;

  // Multi-process jobs (docs/cluster.md). By default a process learns its rank, node and job from
  // its launcher's environment (torchrun, OpenMPI, SLURM), measures only the GPUs it drives, and
  // one process per node, chosen by election, measures the node-wide meters (RAPL, DRAM, the
  // estimates). The fields below, where set, win over the environment.
  bool independent = false;  // true: no job awareness; every process measures all it sees
  std::optional<int> rank, local_rank, world_size, local_world_size;
  std::string job_id, step_id;
  std::string node;         // the node's name; empty: EPOCHWATT_NODE, else the host name
  std::string runtime_dir;  // the node's election folder; empty: EPOCHWATT_RUNTIME_DIR, else
                            // $XDG_RUNTIME_DIR/epochwatt, else /tmp/epochwatt-UID
  // Serve /metrics (Prometheus text exposition format) on "ADDR:PORT" from a thread of its own;
  // empty: none. ADDR defaults to 127.0.0.1 (":9400").
  std::string metrics_listen;
  // A job-wide reduction runs (epochwatt::mpi::JobTracker; Python's trackers under
  // torch.distributed or mpi4py set it themselves): rank 0 prints the job's Predicted and Actual
  // blocks (Tracker::report_job) on the console instead of its own, whose blocks go to its log
  // files only; every other rank prints nothing on the console (its log files, JSON summary and
  // outputs are written as usual). false: every rank prints its own blocks.
  bool job_reduction = false;

  // Outputs. console: where console messages go (default std::cout); confirm_input: where
  // stop_and_confirm reads its answer (default std::cin). Must outlive the tracker.
  std::ostream* console = nullptr;
  std::istream* confirm_input = nullptr;
  bool write_json_summary = true;       // {prefix}{pid}.{id}_{stamp}_epochwatt.json in log_dir
  std::optional<std::string> json_path; // write the JSON summary here instead (any log_dir)
  // Machine-readable outputs (CSV, JSON Lines, Prometheus textfile); each path at most once.
  // A failing output gives one warning on the err channel; the run goes on.
  std::vector<OutputSpec> outputs;

  // Test and integration seams.
  std::shared_ptr<Clock> clock;               // default: system_clock()
  std::vector<std::shared_ptr<Meter>> meters; // extra meters, used besides those discovered
  bool discover_meters = true;                // false: only `meters` (and sim/replay) are used
  std::string tool_name = "epochwatt";        // first std-log line: "{tool_name} version X"
};

// Validate options as carbontracker does (same messages), plus epochwatt's own checks.
// Throws OptionsError. Called by the Tracker constructor; exposed for the CLI and bindings.
void validate(const Options& options);

// Parse carbontracker's `components` string ("all", "gpu", "cpu,gpu" ...) into the ordered list
// of report components ("gpu", "cpu"); throws OptionsError for unknown names.
std::vector<std::string> parse_components(const std::string& components);

}  // namespace epochwatt
