#include "cli/cmd_run.hpp"

#include <cctype>
#include <charconv>
#include <cmath>
#include <map>
#include <sstream>
#include <stdexcept>

#include "epochwatt/errors.hpp"
#include "epochwatt/registry.hpp"
#include "intensity/http.hpp"

namespace epochwatt::cli {
namespace {

// Numbers are read with from_chars: the whole text must be the number, and no locale can turn
// "0.5" into something else.
double finite_number(std::string_view flag, const std::string& value) {
  double x = 0;
  const char* end = value.data() + value.size();
  auto [p, ec] = std::from_chars(value.data(), end, x);
  if (value.empty() || ec != std::errc() || p != end || !std::isfinite(x))
    throw CliError(std::string(flag) + ": " + in_quotes(value) + " is not a finite number");
  return x;
}

int integer(std::string_view flag, const std::string& value) {
  int x = 0;
  const char* end = value.data() + value.size();
  auto [p, ec] = std::from_chars(value.data(), end, x);
  if (value.empty() || ec != std::errc() || p != end)
    throw CliError(std::string(flag) + ": " + in_quotes(value) + " is not an integer");
  return x;
}

// carbontracker's --api_keys value: a Python dict literal of names and keys, with double or single
// quotes. Errors never repeat the value (it holds secrets).
std::map<std::string, std::string> parse_api_keys(std::string_view flag, const std::string& value) {
  std::map<std::string, std::string> out;
  std::size_t i = 0;
  auto skip = [&] {
    while (i < value.size() && std::isspace(static_cast<unsigned char>(value[i]))) ++i;
  };
  auto bad = [&](const char* what) {
    return CliError(std::string(flag) + ": not a dict of names and keys (" + what + "); expected {\"electricitymaps\": \"KEY\"}");
  };
  auto string = [&]() {
    skip();
    if (i >= value.size() || (value[i] != '"' && value[i] != '\'')) throw bad("a quoted string was expected");
    char q = value[i++];
    auto end = value.find(q, i);
    if (end == std::string::npos) throw bad("an unterminated string");
    std::string text = value.substr(i, end - i);
    i = end + 1;
    return text;
  };
  skip();
  if (i >= value.size() || value[i++] != '{') throw bad("no opening brace");
  skip();
  if (i < value.size() && value[i] == '}') return out;
  for (;;) {
    std::string name = string();
    skip();
    if (i >= value.size() || value[i++] != ':') throw bad("no colon after a name");
    std::string key = string();
    if (name != "electricitymaps")
      throw CliError(std::string(flag) + ": no provider named " + in_quotes(name) +
                     " takes a key (known: electricitymaps); carbonintensity.org.uk and energidataservice need none");
    out[name] = key;
    skip();
    if (i < value.size() && value[i] == ',') {
      ++i;
      continue;
    }
    if (i < value.size() && value[i] == '}') break;
    throw bad("no comma or closing brace");
  }
  return out;
}

// A bare PATH ending in .pdf (any case): carbontracker's `--output` of `--report`.
bool is_pdf_path(const std::string& value) {
  std::string lower;
  for (char c : value) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return value.find(':') == std::string::npos && lower.size() >= 4 && lower.compare(lower.size() - 4, 4, ".pdf") == 0;
}

// "csv:PATH", "jsonl:PATH", "prometheus:PATH" or "prom:PATH".
OutputSpec output_spec(std::string_view flag, const std::string& value) {
  auto colon = value.find(':');
  std::string format = colon == std::string::npos ? "" : value.substr(0, colon);
  std::string path = colon == std::string::npos ? "" : value.substr(colon + 1);
  OutputSpec spec;
  if (format == "csv")
    spec.format = OutputSpec::Format::csv;
  else if (format == "jsonl")
    spec.format = OutputSpec::Format::jsonl;
  else if (format == "prometheus" || format == "prom")
    spec.format = OutputSpec::Format::prometheus;
  else {
    throw CliError(std::string(flag) + ": " + in_quotes(value) + " is not FORMAT:PATH with FORMAT csv, jsonl or prometheus (e.g. csv:emissions.csv)");
  }
  if (path.empty()) throw CliError(std::string(flag) + ": " + in_quotes(value) + " has no path after '" + format + ":'");
  spec.path = path;
  return spec;
}

using Apply = std::function<void(const std::string& name, const std::string& value)>;

// Adds a value option in `group`.
void value(CLI::App& app, ParseContext& ctx, const std::string& group, const std::string& names,
           const std::string& metavar, const std::string& help, Apply apply) {
  add_value(app, ctx, names, metavar, help, std::move(apply))->group(group);
}

void flag(CLI::App& app, ParseContext& ctx, const std::string& group, const std::string& names, const std::string& help,
          std::function<void()> apply) {
  add_flag(app, ctx, names, help, std::move(apply))->group(group);
}

constexpr const char* kEpochs = "Epochs";
constexpr const char* kMeasuring = "Measuring";
constexpr const char* kIntensity = "Carbon intensity";
constexpr const char* kOutput = "Output";
constexpr const char* kJob = "Multi-process jobs (docs/cluster.md)";
constexpr const char* kModes = "Log aggregation (carbontracker's other modes)";
constexpr const char* kInformation = "Information";

const std::string kSeams(kSeamsGroup);

}  // namespace

void add_location_options(CLI::App& app, ParseContext& ctx, Options& o) {
  value(app, ctx, kIntensity, "--country", "CC",
        "ISO 3166-1 alpha-2 country of the run (DK, GB, ...). Location options win over the environment "
        "(EPOCHWATT_COUNTRY, ...), the config file and IP geolocation.",
        [&o](auto&, auto& v) { o.country = v; });
  value(app, ctx, kIntensity, "--zone", "ZONE", "Electricity Maps zone of the run (DE, DK-DK1, US-CAL-CISO, ...).",
        [&o](auto&, auto& v) { o.zone = v; });
  value(app, ctx, kIntensity, "--postcode", "PC",
        "Great Britain postcode (its outward part, e.g. RG10) for carbonintensity.org.uk's regional values.",
        [&o](auto&, auto& v) { o.postcode = v; });
  value(app, ctx, kIntensity, "--lat", "DEG", "Latitude of the run (with --lon), for Electricity Maps.",
        [&o](auto& f, auto& v) { o.latitude = finite_number(f, v); });
  value(app, ctx, kIntensity, "--lon", "DEG", "Longitude of the run (with --lat).",
        [&o](auto& f, auto& v) { o.longitude = finite_number(f, v); });
  value(app, ctx, kIntensity, "--cloud", "PROVIDER:REGION",
        "Cloud region of the run, e.g. gcp:europe-west1: its grid intensity from the embedded table.",
        [&o](auto&, auto& v) { o.cloud = v; });
  value(app, ctx, kIntensity, "--intensity", "G", "Use this fixed carbon intensity, in gCO2eq/kWh.",
        [&o](auto& f, auto& v) { o.intensity_g_per_kwh = finite_number(f, v); });
  value(app, ctx, kIntensity, "--intensity-provider", "LIST",
        "Live providers to ask, in order: electricitymaps, carbonintensity.org.uk, energidataservice, or none. "
        "Default: each one suited to the location.",
        [&o](auto& f, auto& v) {
          o.live_providers.clear();
          std::stringstream in(v);
          for (std::string name; std::getline(in, name, ',');) {
            if (name != "none" && name != "electricitymaps" && name != "carbonintensity.org.uk" &&
                name != "energidataservice")
              throw CliError(f + ": unknown provider " + in_quotes(name));
            o.live_providers.push_back(name);
          }
        });
  flag(app, ctx, kIntensity, "--offline",
       "No network: the intensity comes from the cache and the embedded tables only; no IP geolocation.",
       [&o] { o.offline = true; });
  flag(app, ctx, kIntensity, "--no-geolocation", "Do not locate the run by its IP address.",
       [&o] { o.geolocate = false; });
  value(app, ctx, kIntensity, "--config", "FILE",
        "Config file (default $EPOCHWATT_CONFIG, else $XDG_CONFIG_HOME/epochwatt/config.ini).",
        [&o](auto&, auto& v) { o.config_file = v; });
  value(app, ctx, kIntensity, "--cache-dir", "DIR", "Intensity cache (default $XDG_CACHE_HOME/epochwatt); none: no cache.",
        [&o](auto&, auto& v) { o.cache_dir = v; });
}

void add_intensity_seams(CLI::App& app, ParseContext& ctx, Options& o) {
  value(app, ctx, kSeams, "--provider-url", "NAME=URL",
        "Base URL of a provider (electricitymaps, carbonintensity.org.uk, energidataservice, geolocation): a proxy "
        "or a test server.",
        [&o](auto& f, auto& v) {
          auto eq = v.find('=');
          if (eq == std::string::npos || eq == 0 || eq + 1 == v.size()) throw CliError(f + ": " + in_quotes(v) + " is not NAME=URL");
          // The HTTP client refuses these too; here the user hears it before the command starts.
          if (std::string why = detail::refused_scheme(v.substr(eq + 1)); !why.empty())
            throw CliError(f + ": " + v.substr(0, eq) + ": " + why);
          o.provider_urls[v.substr(0, eq)] = v.substr(eq + 1);
        });
}

namespace {

// The value's name in --help when the row names none.
std::string metavar_of(const BackendOption& opt) {
  if (!opt.metavar.empty()) return opt.metavar;
  if (opt.type == "path") return "PATH";
  if (opt.type == "number") return "X";
  if (opt.type == "component") return "gpu|cpu|dram";
  if (opt.type == "list") return "LIST";
  return "TEXT";
}

// The row's help as a sentence: capitalised, its default appended.
std::string help_of(const BackendOption& opt) {
  std::string h = opt.help;
  if (!h.empty()) h[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(h[0])));
  if (!opt.default_value.empty()) h += " (default " + opt.default_value + ")";
  return h + ".";
}

}  // namespace

void add_backend_options(CLI::App& app, ParseContext& ctx, Options& o, const std::string& group, bool seams) {
  for (const auto& backend : BackendRegistry::builtin().backends()) {
    for (const BackendOption& opt : backend.options) {
      if (opt.seam != seams) continue;
      if (opt.type == "bool") {
        flag(app, ctx, group, opt.cli_flag, help_of(opt), [&o, opt] { set_backend_option(o, opt, true); });
        continue;
      }
      value(app, ctx, group, opt.cli_flag, metavar_of(opt), help_of(opt), [&o, opt](auto& f, auto& v) {
        BackendValue x;
        try {
          x = parse_backend_value(opt, v);
        } catch (const OptionsError& e) {
          throw CliError(f + ": " + e.what());
        }
        set_backend_option(o, opt, x);
      });
    }
  }
}

void add_run_options(CLI::App& app, HelpFormatter& formatter, ParseContext& ctx, ParsedArgs& out) {
  out.run.options.log_dir = "./logs";  // the original CLI's default
  app.prefix_command();  // COMMAND's first word ends our options; CLI11 leaves the rest to us
  formatter.set_usage(&app,
                      "epochwatt [OPTIONS] [--] COMMAND [ARGS...]\n"
                      "epochwatt SUBCOMMAND [ARGS...]   (see epochwatt SUBCOMMAND --help)");
  app.description(
      "Runs COMMAND (searched on PATH, started without a shell) as one tracked job, measures the energy it "
      "draws, and reports time, energy (kWh) and carbon footprint (gCO2eq) in carbontracker's format. Options "
      "end at `--` or at COMMAND's first word: every argument after that belongs to COMMAND. A COMMAND named "
      "like a subcommand (devices, intensity, plan, parse, report) needs `--`.");
  app.footer(
      "Output: COMMAND's stdout and stderr pass through unchanged; epochwatt's own messages and\n"
      "reports go to stderr, so stdout is exactly COMMAND's.\n"
      "\n"
      "Exit status: COMMAND's; 128+N if a signal N killed it; 127 if it could not be started;\n"
      "2 for a bad command line (COMMAND is then not started). SIGINT, SIGTERM, SIGHUP, SIGQUIT,\n"
      "SIGUSR1 and SIGUSR2 sent to epochwatt are passed on to COMMAND; the report is written in\n"
      "every case. More: docs/cli.md.");
  RunConfig& r = out.run;
  Options& o = out.run.options;

  // ---- epochs
  value(app, ctx, kEpochs, "--epochs", "N",
        "Number of epochs of the job. Needs --epoch-regex or --epoch-start-regex, whose matches mark the epochs; "
        "the prediction for all N epochs is printed after the first one.",
        [&r](auto& f, auto& v) { r.epochs = integer(f, v); });
  value(app, ctx, kEpochs, "--epoch-regex", "REGEX",
        "Regular expression (RE2 syntax: docs/cli.md) searched in every line the command writes to stdout or stderr. A matching "
        "line ends the current epoch (and, without --epoch-start-regex, starts the next one: epoch 1 then starts "
        "with the command and includes its set-up). Needs --epochs. Without either regex, the whole command is "
        "one epoch.",
        [&r](auto&, auto& v) { r.epoch_regex = v; });
  value(app, ctx, kEpochs, "--epoch-start-regex", "REGEX",
        "Regular expression of the lines that start an epoch, e.g. 'Epoch \\d+/' (Keras) or '^Epoch \\d+:' "
        "(tqdm). The time before the first match is the set-up: reported apart, counted once. A match also ends "
        "the epoch still open; without --epoch-regex the last epoch ends when the command exits. Needs --epochs.",
        [&r](auto&, auto& v) { r.epoch_start_regex = v; });
  value(app, ctx, kEpochs, "--prediction-rule", "steady-epochs|carbontracker",
        "How the whole run is predicted: steady-epochs (default: the measured set-up and epochs + the remaining "
        "epochs x the mean steady epoch, warm-up and outliers left out) or carbontracker (N x the mean epoch, the "
        "original's figure).",
        [&o](auto& f, auto& v) {
          auto rule = prediction_rule_from_string(v);
          if (!rule) throw CliError(std::string(f) + ": " + in_quotes(v) + " is not one of steady-epochs, carbontracker");
          o.prediction_rule = *rule;
        });
  value(app, ctx, kEpochs, "--prediction-level", "F",
        "Share of the prediction's range, between 0 and 1 (default 0.9: a 90 % range).",
        [&o](auto& f, auto& v) { o.prediction_level = finite_number(f, v); });
  flag(app, ctx, kEpochs, "--prediction-updates",
       "Print one short line each time a later prediction leaves the range of the last one printed.",
       [&o] { o.prediction_updates = true; });

  // ---- meters: the options of every backend come from the backends' table
  value(app, ctx, kMeasuring, "--components", "LIST", "Components to measure: gpu, cpu, or a comma list; default all.",
        [&o](auto&, auto& v) { o.components = v; });
  value(app, ctx, kMeasuring, "--update-interval", "S", "Seconds between two readings of the meters (default 1).",
        [&o](auto& f, auto& v) { o.update_interval = finite_number(f, v); });
  value(app, ctx, kMeasuring, "--pue", "F", "Power usage effectiveness applied to predicted and actual totals (default 1.58).",
        [&o](auto& f, auto& v) { o.pue = finite_number(f, v); });
  add_backend_options(app, ctx, o, kMeasuring, /*seams=*/false);

  // ---- multi-process jobs: each value wins over the launcher's environment (docs/cluster.md)
  flag(app, ctx, kJob, "--independent",
       "No job awareness: measure every GPU and the whole node, whatever the launcher's environment says "
       "(for independent runs side by side).",
       [&o] { o.independent = true; });
  value(app, ctx, kJob, "--job-id", "ID", "The job's id (default EPOCHWATT_JOB_ID, else SLURM_JOB_ID, torchrun's or OpenMPI's).",
        [&o](auto&, auto& v) { o.job_id = v; });
  value(app, ctx, kJob, "--step-id", "ID", "The job step's id (default SLURM_STEP_ID).", [&o](auto&, auto& v) { o.step_id = v; });
  value(app, ctx, kJob, "--node", "NAME", "This node's name (default EPOCHWATT_NODE, else the host name).",
        [&o](auto&, auto& v) { o.node = v; });
  value(app, ctx, kJob, "--rank", "N", "This process's global rank (default RANK, OMPI_COMM_WORLD_RANK, SLURM_PROCID).",
        [&o](auto& f, auto& v) { o.rank = integer(f, v); });
  value(app, ctx, kJob, "--local-rank", "N", "Its rank among the job's processes on this node.",
        [&o](auto& f, auto& v) { o.local_rank = integer(f, v); });
  value(app, ctx, kJob, "--world-size", "N", "Processes in the job.", [&o](auto& f, auto& v) { o.world_size = integer(f, v); });
  value(app, ctx, kJob, "--local-world-size", "N", "Processes of the job on this node.",
        [&o](auto& f, auto& v) { o.local_world_size = integer(f, v); });
  value(app, ctx, kJob, "--runtime-dir", "DIR",
        "Folder of the node election's lock files (default EPOCHWATT_RUNTIME_DIR, else $XDG_RUNTIME_DIR/epochwatt, "
        "else /tmp/epochwatt-UID).",
        [&o](auto&, auto& v) { o.runtime_dir = v; });

  // ---- carbon intensity
  add_location_options(app, ctx, o);
  value(app, ctx, kIntensity, "--intensity-refresh", "S",
        "Seconds between two fetches of the live intensity during the run (default 900).",
        [&o](auto& f, auto& v) { o.intensity_refresh_s = finite_number(f, v); });
  value(app, ctx, kIntensity, "--api_keys,--api-keys", "DICT",
        "carbontracker's API keys, e.g. '{\"electricitymaps\": \"KEY\"}'. A key on the command line is visible to "
        "every user of the machine: prefer EPOCHWATT_ELECTRICITYMAPS_TOKEN or the config file.",
        [&r, &ctx](auto& f, auto& v) {
          r.api_keys_given = true;
          r.options.api_keys = parse_api_keys(f, v);
          // A secret: main() blanks it in argv (the value's own argument, or after `--api_keys=`).
          std::size_t index = ctx.last_index();
          const std::string& arg = ctx.args()[index];
          r.secret_args.push_back({index, arg == v ? 0 : arg.size() - v.size()});
        });

  // ---- output
  value(app, ctx, kOutput, "--log_dir,--log-dir", "DIR",
        "Directory of the carbontracker-format log files and the JSON summary (default ./logs); an empty DIR writes "
        "no files.",
        [&o](auto&, auto& v) {
          if (v.empty())
            o.log_dir.reset();
          else
            o.log_dir = v;
        });
  value(app, ctx, kOutput, "--log-file-prefix", "PREFIX", "Prefix of the log file names (an _ is appended).",
        [&o](auto&, auto& v) { o.log_file_prefix = v; });
  value(app, ctx, kOutput, "--json", "PATH", "Write the JSON summary to PATH instead of the log directory.",
        [&o](auto&, auto& v) { o.json_path = v; });
  value(app, ctx, kOutput, "--output", "FORMAT:PATH",
        "Also write a machine-readable output; repeatable. FORMAT is csv (a CodeCarbon-compatible emissions.csv row "
        "per run), jsonl (a JSON line per epoch and per run) or prometheus (alias prom: a node_exporter textfile). "
        "See docs/outputs.md.",
        [&out](auto& f, auto& v) {
          if (is_pdf_path(v))
            out.report_pdf = v;  // carbontracker's PDF path for --report (checked after the parse)
          else
            out.run.options.outputs.push_back(output_spec(f, v));
        });
  value(app, ctx, kOutput, "--metrics-listen", "ADDR:PORT",
        "Serve the live metrics at http://ADDR:PORT/metrics (Prometheus text format) while the run lasts; :PORT "
        "means 127.0.0.1:PORT. A port in use gives a warning and the run goes on. See docs/cluster.md.",
        [&o](auto&, auto& v) { o.metrics_listen = v; });
  value(app, ctx, kOutput, "--decimal-precision", "P", "Decimals of kWh, g and km in the reports (default 12).",
        [&o](auto& f, auto& v) { o.decimal_precision = integer(f, v); });
  flag(app, ctx, kOutput, "--quiet",
       "Do not print the report blocks nor INFO lines on the console (warnings still appear; log files are written "
       "as usual).",
       [&o] { o.verbose = -1; });

  // ---- carbontracker's other modes
  value(app, ctx, kModes, "--parse", "DIR",
        "Print carbontracker's aggregate sentence for the log files in DIR and exit, as `epochwatt parse DIR` (which "
        "also has --table and --json).",
        [&out](auto&, auto& v) {
          out.action = Action::parse;
          out.parse_dir = v;
          throw StopParsing{};
        });
  value(app, ctx, kModes, "--report", "STD_LOG",
        "Write the report of the run whose standard log is STD_LOG as a PDF (--output X.pdf, default "
        "carbon_report.pdf; needs Chromium) and its HTML beside it, and exit; as `epochwatt report STD_LOG --pdf "
        "X.pdf`.",
        [&out](auto&, auto& v) {
          out.action = Action::report;  // reads on, so that its --output may follow it (the original takes flags anywhere)
          out.report_log = v;
        });

  // ---- information
  app.set_help_flag();
  flag(app, ctx, kInformation, "-h,--help", "Print this help and exit.", [&out] {
    out.action = Action::help;
    throw StopParsing{};
  });
  flag(app, ctx, kInformation, "--version", "Print the version and exit.", [&out] {
    out.action = Action::version;
    throw StopParsing{};
  });

  // ---- test seams, last
  add_backend_options(app, ctx, o, kSeams, /*seams=*/true);
  add_intensity_seams(app, ctx, o);
}

void finish_run_args(const CLI::App& app, const ParseContext& ctx, ParsedArgs& out) {
  std::vector<std::string> left = ctx.remaining(app);
  auto first = left.begin();
  if (first != left.end() && *first == "--") {
    ++first;  // everything after `--` is COMMAND's
  } else if (first != left.end() && !first->empty() && (*first)[0] == '-') {
    throw BadArgument{BadArgument::Kind::unknown, *first, ""};
  }
  if (out.action != Action::run && out.action != Action::report) return;  // --help, --version, --parse end the parse
  out.run.command.assign(first, left.end());
  if (out.action == Action::report) {
    if (!out.run.command.empty()) throw CliError("--report takes no command (" + in_quotes(out.run.command.front()) + ")");
    if (out.report_pdf.empty()) out.report_pdf = "carbon_report.pdf";  // the original's default
  } else if (!out.report_pdf.empty()) {
    throw CliError("--output " + out.report_pdf + ": a PDF is written only with --report STD_LOG (or `epochwatt report LOG --pdf " +
                   out.report_pdf + "`); --output otherwise takes FORMAT:PATH");
  }
}

std::string run_bad_argument_message(const BadArgument& bad) { return bad_argument_message(bad, "epochwatt --help"); }

}  // namespace epochwatt::cli
