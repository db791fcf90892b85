#include "cli/args.hpp"

#include <cctype>
#include <charconv>
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

// "csv:PATH", "jsonl:PATH", "prometheus:PATH" or "prom:PATH". carbontracker's `--output X.pdf`
// (the PDF of --report) gets a pointer to the report command instead.
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
    std::string lower;
    for (char c : value) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower.size() >= 4 && lower.compare(lower.size() - 4, 4, ".pdf") == 0)
      throw CliError(std::string(flag) + " " + value + ": carbontracker's PDF report is not available here; use `epochwatt report LOG --pdf " + value + "`");
    throw CliError(std::string(flag) + ": " + quoted(value) + " is not FORMAT:PATH with FORMAT csv, jsonl or prometheus (e.g. csv:emissions.csv)");
  }
  if (path.empty()) throw CliError(std::string(flag) + ": " + quoted(value) + " has no path after '" + format + ":'");
  spec.path = path;
  return spec;
}

void unavailable(ParsedArgs& out, std::string_view flag) {
  out.action = Action::unavailable;
  out.unavailable_flag = std::string(flag);
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
       "ISO 3166-1 alpha-2 country of the run; its annual average intensity is used. "
       "Default: the EPOCHWATT_COUNTRY environment variable, else the world average.",
       [](ParsedArgs& o, F, V v) { o.run.options.country = v; }},
      {{"--intensity"}, "G", "Carbon intensity", "Use this fixed carbon intensity, in gCO2eq/kWh.",
       [](ParsedArgs& o, F f, V v) { o.run.options.intensity_g_per_kwh = finite_number(f, v); }},
      {{"--api_keys", "--api-keys"}, "DICT", "Carbon intensity",
       "Accepted for compatibility with carbontracker and ignored: live intensity providers "
       "come in a later version.",
       [](ParsedArgs& o, F, V) { o.run.api_keys_given = true; }},

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
       [](ParsedArgs& o, F f, V v) { o.run.options.outputs.push_back(output_spec(f, v)); }},
      {{"--decimal-precision"}, "P", "Output", "Decimals of kWh, g and km in the reports (default 12).",
       [](ParsedArgs& o, F f, V v) { o.run.options.decimal_precision = integer(f, v); }},
      {{"--quiet"}, "", "Output",
       "Do not print the report blocks on the console (warnings still appear; log files are "
       "written as usual).",
       [](ParsedArgs& o, F, V) { o.run.options.verbose = 0; }},

      // ---- carbontracker's other modes, for later versions
      {{"--parse"}, "DIR", "Not available in this version",
       "carbontracker's log aggregation.", [](ParsedArgs& o, F f, V) { unavailable(o, f); }},
      {{"--report"}, "STD_LOG", "Not available in this version",
       "carbontracker's PDF report.", [](ParsedArgs& o, F f, V) { unavailable(o, f); }},

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
    if (out.action != Action::run) return out;
  }
  out.run.command.assign(args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
  return out;
}

std::string help_text() {
  constexpr std::size_t kHelpColumn = 30, kWidth = 100;
  std::string out =
      "Usage: epochwatt [OPTIONS] [--] COMMAND [ARGS...]\n"
      "       epochwatt devices [--json] [--fix-permissions]   (see epochwatt devices --help)\n"
      "\n"
      "Runs COMMAND (searched on PATH, started without a shell) as one tracked job, measures the\n"
      "energy it draws, and reports time, energy (kWh) and carbon footprint (gCO2eq) in\n"
      "carbontracker's format. Options end at `--` or at COMMAND's first word: every argument\n"
      "after that belongs to COMMAND. A COMMAND named like a subcommand (devices) needs `--`.\n";
  std::string_view group;
  for (const auto& spec : option_table()) {
    if (spec.group != group) {
      group = spec.group;
      out += "\n" + std::string(group) + ":\n";
    }
    std::string head = "  ";
    for (std::size_t k = 0; k < spec.names.size(); ++k) head += (k ? ", " : "") + std::string(spec.names[k]);
    if (!spec.metavar.empty()) head += " " + std::string(spec.metavar);
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
