#include "cli/args.hpp"

#include <cctype>
#include <charconv>
#include <map>
#include <cmath>
#include <sstream>

namespace epochwatt::cli {
namespace {

std::string quoted(const std::string& value) { return "'" + value + "'"; }

// Numbers are read with from_chars: the whole text must be the number, and no locale can turn
// "0.5" into something else.
double finite_number(std::string_view flag, const std::string& value) {
  double x = 0;
  const char* end = value.data() + value.size();
  auto [p, ec] = std::from_chars(value.data(), end, x);
  if (value.empty() || ec != std::errc() || p != end || !std::isfinite(x))
    throw CliError(std::string(flag) + ": " + quoted(value) + " is not a finite number");
  return x;
}

int integer(std::string_view flag, const std::string& value) {
  int x = 0;
  const char* end = value.data() + value.size();
  auto [p, ec] = std::from_chars(value.data(), end, x);
  if (value.empty() || ec != std::errc() || p != end)
    throw CliError(std::string(flag) + ": " + quoted(value) + " is not an integer");
  return x;
}

Component component(std::string_view flag, const std::string& value) {
  if (value == "gpu") return Component::gpu;
  if (value == "cpu") return Component::cpu;
  if (value == "dram") return Component::dram;
  throw CliError(std::string(flag) + ": " + quoted(value) + " is not one of gpu, cpu, dram");
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
      throw CliError(std::string(flag) + ": no provider named " + quoted(name) +
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
    throw CliError(std::string(flag) + ": " + quoted(value) + " is not FORMAT:PATH with FORMAT csv, jsonl or prometheus (e.g. csv:emissions.csv)");
  }
  if (path.empty()) throw CliError(std::string(flag) + ": " + quoted(value) + " has no path after '" + format + ":'");
  spec.path = path;
  return spec;
}

// Captureless lambdas, so that each table row carries its own behaviour as a plain pointer.
using V = const std::string&;
using F = std::string_view;

std::vector<OptionSpec> make_table() {
  return {
      // ---- epochs
      {{"--epochs"}, "N", "Epochs",
       "Number of epochs of the job. Needs --epoch-regex, whose matches end the epochs; the "
       "prediction for all N epochs is printed after the first one.",
       [](ParsedArgs& o, F f, V v) { o.run.epochs = integer(f, v); }},
      {{"--epoch-regex"}, "REGEX", "Epochs",
       "ECMAScript regular expression searched in every line the command writes to stdout or "
       "stderr. A matching line ends the current epoch and starts the next one. Needs --epochs. "
       "Without both, the whole command is one epoch.",
       [](ParsedArgs& o, F, V v) { o.run.epoch_regex = v; }},

      // ---- meters
      {{"--sim-cpu"}, "NAME", "Measuring",
       "Simulate a CPU named NAME drawing TDP x UTIL watts (needs --sim-cpu-tdp).",
       [](ParsedArgs& o, F, V v) { o.run.options.sim_cpu = v; }},
      {{"--sim-cpu-tdp"}, "W", "Measuring", "TDP of the simulated CPU, in watts.",
       [](ParsedArgs& o, F f, V v) { o.run.options.sim_cpu_tdp = finite_number(f, v); }},
      {{"--sim-cpu-util"}, "U", "Measuring", "Utilisation of the simulated CPU, 0.0 to 1.0 (default 0.5).",
       [](ParsedArgs& o, F f, V v) { o.run.options.sim_cpu_util = finite_number(f, v); }},
      {{"--sim-gpu"}, "NAME", "Measuring",
       "Simulate a GPU named NAME drawing WATTS x UTIL watts (needs --sim-gpu-watts).",
       [](ParsedArgs& o, F, V v) { o.run.options.sim_gpu = v; }},
      {{"--sim-gpu-watts"}, "W", "Measuring", "Power of the simulated GPU at full load, in watts.",
       [](ParsedArgs& o, F f, V v) { o.run.options.sim_gpu_watts = finite_number(f, v); }},
      {{"--sim-gpu-util"}, "U", "Measuring", "Utilisation of the simulated GPU, 0.0 to 1.0 (default 0.5).",
       [](ParsedArgs& o, F f, V v) { o.run.options.sim_gpu_util = finite_number(f, v); }},
      {{"--replay"}, "TRACE.csv", "Measuring",
       "Replay a recorded trace (columns t_s,power_mw,energy_mj) as a meter, in real time.",
       [](ParsedArgs& o, F, V v) { o.run.options.replay_trace = v; }},
      {{"--replay-component"}, "gpu|cpu|dram", "Measuring", "Component the replayed trace measures (default gpu).",
       [](ParsedArgs& o, F f, V v) { o.run.options.replay_component = component(f, v); }},
      {{"--replay-power"}, "", "Measuring",
       "Integrate the trace's power column instead of reading its energy counter.",
       [](ParsedArgs& o, F, V) { o.run.options.replay_use_power = true; }},
      {{"--replay-offset"}, "S", "Measuring", "Trace time, in seconds, at which the replay starts (default 0).",
       [](ParsedArgs& o, F f, V v) { o.run.options.replay_offset_s = finite_number(f, v); }},
      {{"--components"}, "LIST", "Measuring", "Components to measure: gpu, cpu, or a comma list; default all.",
       [](ParsedArgs& o, F, V v) { o.run.options.components = v; }},
      {{"--update-interval"}, "S", "Measuring", "Seconds between two readings of the meters (default 1).",
       [](ParsedArgs& o, F f, V v) { o.run.options.update_interval = finite_number(f, v); }},
      {{"--pue"}, "F", "Measuring",
       "Power usage effectiveness applied to predicted and actual totals (default 1.58).",
       [](ParsedArgs& o, F f, V v) { o.run.options.pue = finite_number(f, v); }},

      // ---- hardware backends
      {{"--rapl-domains"}, "LIST", "Measuring",
       "RAPL domains to measure: package, dram, core, uncore, psys (default package,dram; a parent "
       "and its children are never counted together).",
       [](ParsedArgs& o, F, V v) {
         o.run.options.rapl_domains.clear();
         std::size_t start = 0;
         while (start <= v.size()) {
           std::size_t comma = v.find(',', start);
           std::string d = v.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
           if (!d.empty()) o.run.options.rapl_domains.push_back(d);
           if (comma == std::string::npos) break;
           start = comma + 1;
         }
       }},
      {{"--cpu-estimate-process-tree"}, "", "Measuring",
       "Where the CPU is estimated (no RAPL), use the CPU time of the command's process tree "
       "instead of the whole machine's utilisation.",
       [](ParsedArgs& o, F, V) { o.run.options.estimate_process_tree = true; }},
      {{"--devices-by-pid"}, "", "Measuring",
       "NVIDIA GPUs count only while a process of COMMAND's process tree runs on them (checked every "
       "second; carbontracker's devices_by_pid, refreshed while running).",
       [](ParsedArgs& o, F, V) { o.run.options.devices_by_pid = true; }},
      {{"--nvml-library"}, "PATH", "Measuring",
       "NVML library to load (default: EPOCHWATT_NVML_LIBRARY, else libnvidia-ml.so.1).",
       [](ParsedArgs& o, F, V v) { o.run.options.nvml_library = v; }},
      {{"--powercap-root"}, "DIR", "Measuring", "Where the RAPL zones are (default /sys/class/powercap).",
       [](ParsedArgs& o, F, V v) { o.run.options.powercap_root = v; }},
      {{"--drm-root"}, "DIR", "Measuring", "Where the hwmon GPUs are (default /sys/class/drm).",
       [](ParsedArgs& o, F, V v) { o.run.options.drm_root = v; }},
      {{"--proc-root"}, "DIR", "Measuring", "Where /proc is, for the estimates (default /proc).",
       [](ParsedArgs& o, F, V v) { o.run.options.proc_root = v; }},

      // ---- carbon intensity
      {{"--country"}, "CC", "Carbon intensity",
       "ISO 3166-1 alpha-2 country of the run (DK, GB, ...). Location options win over the "
       "environment (EPOCHWATT_COUNTRY, ...), the config file and IP geolocation.",
       [](ParsedArgs& o, F, V v) { o.run.options.country = v; }},
      {{"--zone"}, "ZONE", "Carbon intensity", "Electricity Maps zone of the run (DE, DK-DK1, US-CAL-CISO, ...).",
       [](ParsedArgs& o, F, V v) { o.run.options.zone = v; }},
      {{"--postcode"}, "PC", "Carbon intensity",
       "Great Britain postcode (its outward part, e.g. RG10) for carbonintensity.org.uk's regional values.",
       [](ParsedArgs& o, F, V v) { o.run.options.postcode = v; }},
      {{"--lat"}, "DEG", "Carbon intensity", "Latitude of the run (with --lon), for Electricity Maps.",
       [](ParsedArgs& o, F f, V v) { o.run.options.latitude = finite_number(f, v); }},
      {{"--lon"}, "DEG", "Carbon intensity", "Longitude of the run (with --lat).",
       [](ParsedArgs& o, F f, V v) { o.run.options.longitude = finite_number(f, v); }},
      {{"--cloud"}, "PROVIDER:REGION", "Carbon intensity",
       "Cloud region of the run, e.g. gcp:europe-west1: its grid intensity from the embedded table.",
       [](ParsedArgs& o, F, V v) { o.run.options.cloud = v; }},
      {{"--intensity"}, "G", "Carbon intensity", "Use this fixed carbon intensity, in gCO2eq/kWh.",
       [](ParsedArgs& o, F f, V v) { o.run.options.intensity_g_per_kwh = finite_number(f, v); }},
      {{"--intensity-provider"}, "LIST", "Carbon intensity",
       "Live providers to ask, in order: electricitymaps, carbonintensity.org.uk, energidataservice, or "
       "none. Default: each one suited to the location.",
       [](ParsedArgs& o, F f, V v) {
         o.run.options.live_providers.clear();
         std::stringstream in(v);
         for (std::string name; std::getline(in, name, ',');) {
           if (name != "none" && name != "electricitymaps" && name != "carbonintensity.org.uk" &&
               name != "energidataservice")
             throw CliError(std::string(f) + ": unknown provider " + quoted(name));
           o.run.options.live_providers.push_back(name);
         }
       }},
      {{"--offline"}, "", "Carbon intensity",
       "No network: the intensity comes from the cache and the embedded tables only; no IP geolocation.",
       [](ParsedArgs& o, F, V) { o.run.options.offline = true; }},
      {{"--no-geolocation"}, "", "Carbon intensity", "Do not locate the run by its IP address.",
       [](ParsedArgs& o, F, V) { o.run.options.geolocate = false; }},
      {{"--provider-url"}, "NAME=URL", "Carbon intensity",
       "Base URL of a provider (electricitymaps, carbonintensity.org.uk, energidataservice, geolocation): "
       "a proxy or a test server.",
       [](ParsedArgs& o, F f, V v) {
         auto eq = v.find('=');
         if (eq == std::string::npos || eq == 0 || eq + 1 == v.size())
           throw CliError(std::string(f) + ": " + quoted(v) + " is not NAME=URL");
         o.run.options.provider_urls[v.substr(0, eq)] = v.substr(eq + 1);
       }},
      {{"--config"}, "FILE", "Carbon intensity",
       "Config file (default $EPOCHWATT_CONFIG, else $XDG_CONFIG_HOME/epochwatt/config.ini).",
       [](ParsedArgs& o, F, V v) { o.run.options.config_file = v; }},
      {{"--cache-dir"}, "DIR", "Carbon intensity",
       "Intensity cache (default $XDG_CACHE_HOME/epochwatt); none: no cache.",
       [](ParsedArgs& o, F, V v) { o.run.options.cache_dir = v; }},
      {{"--intensity-refresh"}, "S", "Carbon intensity",
       "Seconds between two fetches of the live intensity during the run (default 900).",
       [](ParsedArgs& o, F f, V v) { o.run.options.intensity_refresh_s = finite_number(f, v); }},
      {{"--api_keys", "--api-keys"}, "DICT", "Carbon intensity",
       "carbontracker's API keys, e.g. '{\"electricitymaps\": \"KEY\"}'. A key on the command line is "
       "visible to every user of the machine: prefer EPOCHWATT_ELECTRICITYMAPS_TOKEN or the config file.",
       [](ParsedArgs& o, F f, V v) {
         o.run.api_keys_given = true;
         o.run.options.api_keys = parse_api_keys(f, v);
       }},

      // ---- output
      {{"--log_dir", "--log-dir"}, "DIR", "Output",
       "Directory of the carbontracker-format log files and the JSON summary (default ./logs); "
       "an empty DIR writes no files.",
       [](ParsedArgs& o, F, V v) {
         if (v.empty())
           o.run.options.log_dir.reset();
         else
           o.run.options.log_dir = v;
       }},
      {{"--log-file-prefix"}, "PREFIX", "Output", "Prefix of the log file names (an _ is appended).",
       [](ParsedArgs& o, F, V v) { o.run.options.log_file_prefix = v; }},
      {{"--json"}, "PATH", "Output", "Write the JSON summary to PATH instead of the log directory.",
       [](ParsedArgs& o, F, V v) { o.run.options.json_path = v; }},
      {{"--output"}, "FORMAT:PATH", "Output",
       "Also write a machine-readable output; repeatable. FORMAT is csv (a CodeCarbon-compatible "
       "emissions.csv row per run), jsonl (a JSON line per epoch and per run) or prometheus (alias "
       "prom: a node_exporter textfile). See docs/outputs.md.",
       [](ParsedArgs& o, F f, V v) {
         if (is_pdf_path(v))
           o.report_pdf = v;  // carbontracker's PDF path for --report (checked after the parse)
         else
           o.run.options.outputs.push_back(output_spec(f, v));
       }},
      {{"--decimal-precision"}, "P", "Output", "Decimals of kWh, g and km in the reports (default 12).",
       [](ParsedArgs& o, F f, V v) { o.run.options.decimal_precision = integer(f, v); }},
      {{"--quiet"}, "", "Output",
       "Do not print the report blocks on the console (warnings still appear; log files are "
       "written as usual).",
       [](ParsedArgs& o, F, V) { o.run.options.verbose = 0; }},

      // ---- carbontracker's other modes
      {{"--parse"}, "DIR", "Log aggregation",
       "Print carbontracker's aggregate sentence for the log files in DIR and exit, as "
       "`epochwatt parse DIR` (which also has --table and --json).",
       [](ParsedArgs& o, F, V v) {
         o.action = Action::parse;
         o.parse_dir = v;
       }},
      {{"--report"}, "STD_LOG", "Log aggregation",
       "Write the report of the run whose standard log is STD_LOG as a PDF (--output X.pdf, default "
       "carbon_report.pdf; needs Chromium) and its HTML beside it, and exit; as `epochwatt report "
       "STD_LOG --pdf X.pdf`.",
       [](ParsedArgs& o, F, V v) {
         o.action = Action::report;
         o.report_log = v;
       }},

      // ---- information
      {{"-h", "--help"}, "", "Information", "Print this help and exit.",
       [](ParsedArgs& o, F, V) { o.action = Action::help; }},
      {{"--version"}, "", "Information", "Print the version and exit.",
       [](ParsedArgs& o, F, V) { o.action = Action::version; }},
  };
}

const OptionSpec* find_option(std::string_view name) {
  for (const auto& spec : option_table())
    for (auto n : spec.names)
      if (n == name) return &spec;
  return nullptr;
}

// "--flag=value" is split at the first '='; "-h" and "--flag" have no inline value.
std::pair<std::string, std::optional<std::string>> split_inline_value(const std::string& token) {
  auto eq = token.find('=');
  if (token.rfind("--", 0) != 0 || eq == std::string::npos) return {token, std::nullopt};
  return {token.substr(0, eq), token.substr(eq + 1)};
}

// Appends `text` to `out`, wrapped at `width` columns, each new line indented by `indent`.
void append_wrapped(std::string& out, std::string_view text, std::size_t column, std::size_t indent,
                    std::size_t width) {
  std::istringstream words{std::string(text)};
  std::string word;
  while (words >> word) {
    if (column > indent && column + 1 + word.size() > width) {
      out += "\n" + std::string(indent, ' ');
      column = indent;
    } else if (column > indent) {
      out += ' ';
      ++column;
    }
    out += word;
    column += word.size();
  }
  out += '\n';
}

}  // namespace

const std::vector<OptionSpec>& option_table() {
  static const std::vector<OptionSpec> table = make_table();
  return table;
}

ParsedArgs parse_args(const std::vector<std::string>& args) {
  ParsedArgs out;
  out.run.options.log_dir = "./logs";  // the original CLI's default
  std::size_t i = 0;
  for (; i < args.size(); ++i) {
    const std::string& token = args[i];
    if (token == "--") {
      ++i;
      break;
    }
    // The command's first word ends our options (D20): everything from here is the command's.
    if (token.empty() || token[0] != '-') break;
    auto [name, inline_value] = split_inline_value(token);
    const OptionSpec* spec = find_option(name);
    if (!spec) throw CliError("unknown option " + quoted(name) + " (see epochwatt --help)");
    std::string value;
    if (spec->metavar.empty()) {
      if (inline_value) throw CliError(name + " takes no value");
    } else if (inline_value) {
      value = *inline_value;
    } else if (i + 1 < args.size()) {
      value = args[++i];  // taken whatever it looks like, as getopt does
    } else {
      throw CliError(name + " needs a value (" + std::string(spec->metavar) + ")");
    }
    spec->apply(out, name, value);
    if (name == "--api_keys" || name == "--api-keys")  // a secret: main() blanks it in argv
      out.run.secret_args.push_back({i, inline_value ? token.size() - value.size() : 0});
    // --report reads on, so that its --output may follow it (the original takes flags anywhere).
    if (out.action != Action::run && out.action != Action::report) return out;
  }
  out.run.command.assign(args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
  if (out.action == Action::report) {
    if (!out.run.command.empty()) throw CliError("--report takes no command (" + quoted(out.run.command.front()) + ")");
    if (out.report_pdf.empty()) out.report_pdf = "carbon_report.pdf";  // the original's default
  } else if (!out.report_pdf.empty()) {
    throw CliError("--output " + out.report_pdf + ": a PDF is written only with --report STD_LOG (or `epochwatt report LOG --pdf " +
                   out.report_pdf + "`); --output otherwise takes FORMAT:PATH");
  }
  return out;
}

std::string help_text() {
  constexpr std::size_t kHelpColumn = 30, kWidth = 100;
  std::string out =
      "Usage: epochwatt [OPTIONS] [--] COMMAND [ARGS...]\n"
      "       epochwatt devices [--json] [--fix-permissions]   (see epochwatt devices --help)\n"
      "       epochwatt intensity [--json] [LOCATION OPTIONS]   (see epochwatt intensity --help)\n"
      "       epochwatt plan --duration D [--within W] ...     (see epochwatt plan --help)\n"
      "       epochwatt parse DIR... [--table | --json]        (see epochwatt parse --help)\n"
      "\n"
      "Runs COMMAND (searched on PATH, started without a shell) as one tracked job, measures the\n"
      "energy it draws, and reports time, energy (kWh) and carbon footprint (gCO2eq) in\n"
      "carbontracker's format. Options end at `--` or at COMMAND's first word: every argument\n"
      "after that belongs to COMMAND. A COMMAND named like a subcommand (devices, intensity, plan,\n"
      "parse, report) needs `--`.\n";
  // Appends only below: `"x" + std::string` trips g++ 12's -Wrestrict at -O3 (GCC bug 105651).
  std::string_view group;
  for (const auto& spec : option_table()) {
    if (spec.group != group) {
      group = spec.group;
      out += '\n';
      out += group;
      out += ":\n";
    }
    std::string head = "  ";
    for (std::size_t k = 0; k < spec.names.size(); ++k) {
      if (k) head += ", ";
      head += spec.names[k];
    }
    if (!spec.metavar.empty()) {
      head += ' ';
      head += spec.metavar;
    }
    out += head;
    std::size_t column = head.size();
    if (column + 2 > kHelpColumn) {
      out += "\n";
      column = 0;
    }
    out += std::string(kHelpColumn - column, ' ');
    append_wrapped(out, spec.help, kHelpColumn, kHelpColumn, kWidth);
  }
  out +=
      "\n"
      "Output: COMMAND's stdout and stderr pass through unchanged; epochwatt's own messages and\n"
      "reports go to stderr, so stdout is exactly COMMAND's.\n"
      "\n"
      "Exit status: COMMAND's; 128+N if a signal N killed it; 127 if it could not be started;\n"
      "2 for a bad command line (COMMAND is then not started). SIGINT, SIGTERM, SIGHUP, SIGQUIT,\n"
      "SIGUSR1 and SIGUSR2 sent to epochwatt are passed on to COMMAND; the report is written in\n"
      "every case. More: docs/cli.md.\n";
  return out;
}

}  // namespace epochwatt::cli
