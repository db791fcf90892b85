#include "cli/cmd_parse.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <optional>
#include <ostream>

#include "cli/cmd_parse_jobs.hpp"
#include "core/format.hpp"
#include "report/ct_report.hpp"
#include "report/json_stream.hpp"
#include "report/run_from_log.hpp"

namespace epochwatt::cli {
namespace {

using detail::ParsedConsumption;
using detail::ParsedRun;
using detail::JsonStreamWriter;

// How the aggregate's energy was obtained, one run at a time: each summed run's block, split by
// the shares of its counted epochs' devices (measured, estimated, not stated; run_from_log reads
// the methods).
class BasisSum {
 public:
  void add(const ParsedRun& r) {
    detail::SummedBlock which = detail::summed_block(r);
    const std::optional<ParsedConsumption>& block = which == detail::SummedBlock::actual ? r.actual : r.predicted;
    if (which == detail::SummedBlock::none || !block || !std::isfinite(block->energy_kwh) || block->energy_kwh <= 0)
      return;
    detail::EnergyByBasis b;
    try {
      // The run model's split (run_from_log, energy_by_basis) without building the model.
      b = detail::energy_by_basis_of_log(r);
    } catch (const std::exception&) {
      return;  // a run the model cannot hold: its share is left out, the sentence still counts it
    }
    double j = b.total_j();
    double kwh = block->energy_kwh;
    if (!(j > 0)) {
      total_.unknown_j += kwh;
      return;
    }
    total_.measured_j += kwh * b.measured_j / j;
    total_.estimated_j += kwh * b.estimated_j / j;
    total_.unknown_j += kwh * b.unknown_j / j;
    merge(total_.measured, b.measured);
    merge(total_.estimated, b.estimated);
    merge(total_.unknown, b.unknown);
  }
  const detail::EnergyByBasis& total() const { return total_; }

 private:
  static void merge(std::vector<std::string>& into, const std::vector<std::string>& from) {
    for (const auto& f : from)
      if (std::find(into.begin(), into.end(), f) == into.end()) into.push_back(f);
  }
  detail::EnergyByBasis total_;
};

// The most likely number of epochs the run was meant to have: the prediction's, the early-stop
// line's, or, for a run that ended normally, the epochs it did.
std::optional<int> planned_epochs(const ParsedRun& r) {
  if (r.predicted) return r.predicted->epochs;
  if (r.monitor_epochs) return r.monitor_epochs;
  if (r.actual && !r.early_stop) return r.actual->epochs;
  return std::nullopt;
}

const ParsedConsumption* summed(const ParsedRun& r) {
  switch (detail::summed_block(r)) {
    case detail::SummedBlock::actual: return &*r.actual;
    case detail::SummedBlock::predicted: return &*r.predicted;
    case detail::SummedBlock::none: break;
  }
  return nullptr;
}

// Each distinct key of `pairs` once, at its first position, with its last value: what a JSON
// object built by assignment (nlohmann's `o[key] = value`, the tree writer before issue 13) holds.
template <typename T, typename Key>
std::vector<std::size_t> distinct_keys(const std::vector<T>& items, Key key_of) {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    std::size_t last = i;
    bool earlier = false;
    for (std::size_t k = 0; k < items.size(); ++k) {
      if (key_of(items[k]) != key_of(items[i])) continue;
      if (k < i) earlier = true;
      last = k;
    }
    if (!earlier) out.push_back(last);
  }
  return out;
}

void write_equivalents(JsonStreamWriter& w, const std::vector<std::pair<std::string, double>>& eq) {
  w.begin_object();
  for (std::size_t i : distinct_keys(eq, [](const auto& e) -> const std::string& { return e.first; })) {
    w.key(eq[i].first);
    w.value(eq[i].second);
  }
  w.end_object();
}

void write_block(JsonStreamWriter& w, const std::optional<ParsedConsumption>& c) {
  if (!c) return w.null();
  w.begin_object();
  w.key("epochs"), w.value(c->epochs);
  w.key("title_epochs"), w.value(c->title_epochs);
  w.key("duration_s"), w.value(c->duration_s);
  w.key("energy_kwh"), w.value(c->energy_kwh);
  w.key("co2_g"), w.value(c->co2_g);
  w.key("km"), w.value(c->km);
  w.key("equivalents"), write_equivalents(w, c->equivalents);
  w.end_object();
}

// The original parser's per-component structure (spec §8.3), with its defects corrected: one
// row per completed epoch holding the component's total power (missing values 0.0), energies
// power x duration in J without PUE, trimmed device names.
void write_carbontracker_components(JsonStreamWriter& w, const ParsedRun& r) {
  bool any_duration = false;
  for (const auto& e : r.epochs) any_duration = any_duration || !e.interrupted;
  w.begin_object();
  for (std::size_t i : distinct_keys(r.components, [](const auto& c) -> const std::string& { return c.name; })) {
    const detail::ParsedComponent& c = r.components[i];
    bool any = false;
    for (const auto& e : r.epochs)
      if (!e.interrupted && e.power(c.name)) any = true;
    auto watts = [&](const detail::ParsedEpoch& e) {
      const detail::ParsedPower* p = e.power(c.name);
      return p && p->watts ? *p->watts : 0.0;
    };
    w.key(c.name);
    w.begin_object();
    w.key("avg_power_usages (W)");
    if (any) {
      w.begin_array();
      for (const auto& e : r.epochs) {
        if (e.interrupted) continue;
        w.begin_array(), w.value(watts(e)), w.end_array();
      }
      w.end_array();
    } else {
      w.null();
    }
    w.key("avg_energy_usages (J)");
    if (any && any_duration) {
      w.begin_array();
      for (const auto& e : r.epochs) {
        if (e.interrupted) continue;
        w.begin_array(), w.value(watts(e) * e.duration_s.value_or(0.0)), w.end_array();
      }
      w.end_array();
    } else {
      w.null();
    }
    w.key("epoch_durations (s)");
    if (any_duration) {
      w.begin_array();
      for (const auto& e : r.epochs)
        if (!e.interrupted) w.value(e.duration_s.value_or(0.0));
      w.end_array();
    } else {
      w.null();
    }
    w.key("devices"), w.value(c.devices);
    w.end_object();
  }
  w.end_object();
}

// One run of the JSON output's "runs" (schema epochwatt-parse/1, docs/parse.md).
void write_run_json(JsonStreamWriter& w, const ParsedRun& r) {
  w.begin_object();
  w.key("id"), w.value(r.id);
  w.key("version"), w.value(r.version);
  w.key("tool_version"), w.value(r.tool_version);
  w.key("standard_log"), w.value(r.std_log);
  w.key("output_log"), w.value(r.output_log);
  w.key("components");
  w.begin_array();
  for (const auto& c : r.components) {
    w.begin_object();
    w.key("name"), w.value(c.name);
    w.key("devices"), w.value(c.devices);
    w.end_object();
  }
  w.end_array();
  w.key("epochs_done"), w.value(r.epochs_done());
  w.key("epochs_planned"), w.value(planned_epochs(r));
  w.key("early_stop"), w.value(r.early_stop);
  w.key("pue"), w.value(r.pue);
  w.key("address"), w.value(r.address);
  w.key("intensities"), w.value(r.intensities);
  w.key("average_intensity"), w.value(r.average_intensity);
  w.key("intensity_source_line"), w.value(r.intensity_source_line);
  w.key("predicted"), write_block(w, r.predicted);
  w.key("actual"), write_block(w, r.actual);
  w.key("summed"), w.value(detail::to_string(detail::summed_block(r)));
  w.key("epochs");
  w.begin_array();
  for (const auto& e : r.epochs) {
    w.begin_object();
    w.key("index"), w.value(e.index);
    w.key("interrupted"), w.value(e.interrupted);
    w.key("duration_s"), w.value(e.duration_s);
    w.key("joules"), w.value(e.joules());
    w.key("powers");
    w.begin_array();
    for (const auto& p : e.powers) {
      w.begin_object();
      w.key("component"), w.value(p.component);
      w.key("watts"), w.value(p.watts);
      w.key("device_watts"), w.value(p.device_watts);
      w.key("device_names"), w.value(p.device_names);
      w.key("method"), w.value(p.method);
      w.end_object();
    }
    w.end_array();
    w.end_object();
  }
  w.end_array();
  w.key("carbontracker_components"), write_carbontracker_components(w, r);
  w.end_object();
}

std::string or_dash(const std::optional<double>& v, int decimals) { return v ? detail::fixed(*v, decimals) : "-"; }

// The --table output, a row at a time. Aligning the columns needs every row's width before the
// first line is printed, so the rows are kept as text (one string per row, about 110 bytes for a
// run, 1.1 MB for 10,000), not as runs.
class ParseTable {
 public:
  ParseTable() {
    add_row({"run", "version", "epochs", "time", "kWh", "gCO2e", "summed", "predicted kWh", "actual kWh", "early stop"});
  }
  void add(const ParsedRun& r) {
    const ParsedConsumption* c = summed(r);
    auto planned = planned_epochs(r);
    add_row({r.id, r.version,
             std::to_string(r.actual ? r.actual->epochs : r.epochs_done()) + "/" + (planned ? std::to_string(*planned) : "?"),
             c && c->duration_s ? detail::report_time(*c->duration_s) : "-", c ? detail::fixed(c->energy_kwh, 6) : "-",
             c ? detail::fixed(c->co2_g, 3) : "-", std::string(detail::to_string(detail::summed_block(r))),
             or_dash(r.predicted ? std::optional(r.predicted->energy_kwh) : std::nullopt, 6),
             or_dash(r.actual ? std::optional(r.actual->energy_kwh) : std::nullopt, 6), r.early_stop ? "yes" : "no"});
  }
  // Prints the rows and a total row, then lets the rows go.
  void write(std::ostream& out, const detail::Aggregate& total) {
    add_row({"total (" + std::to_string(total.runs_summed) + " of " + std::to_string(total.runs) + " runs)", "", "", "",
             detail::fixed(total.energy_kwh, 6), detail::fixed(total.co2_g, 3), "", "", "", ""});
    // Numbers right-aligned, text left-aligned.
    static constexpr bool right[kColumns] = {false, false, true, true, true, true, false, true, true, false};
    std::string line;
    for (const std::string& row : rows_) {
      line.clear();
      std::size_t start = 0;
      for (std::size_t i = 0; i < kColumns; ++i) {
        std::size_t end = row.find('\0', start);
        std::string_view cell(row.data() + start, end - start);
        start = end + 1;
        if (i) line += "  ";
        std::size_t pad = width_[i] - cell.size();
        if (right[i]) line.append(pad, ' ');
        line += cell;
        if (!right[i]) line.append(pad, ' ');
      }
      while (!line.empty() && line.back() == ' ') line.pop_back();
      line += '\n';
      out << line;
    }
    rows_ = {};
  }

 private:
  static constexpr std::size_t kColumns = 10;
  // A row as its cells separated by NUL (no cell holds one: they are file names and figures).
  void add_row(const std::array<std::string, kColumns>& cells) {
    std::string row;
    for (std::size_t i = 0; i < kColumns; ++i) {
      width_[i] = std::max(width_[i], cells[i].size());
      row += cells[i];
      row += '\0';
    }
    row.shrink_to_fit();
    rows_.push_back(std::move(row));
  }
  std::vector<std::string> rows_;
  std::array<std::size_t, kColumns> width_{};
};

}  // namespace

Subcommand add_parse_command(CLI::App& root, ParseContext& ctx) {
  struct Args {
    bool table = false, json = false, by_job = false;
    std::vector<std::string> dirs;
  };
  auto a = std::make_shared<Args>();
  Subcommand sub;
  sub.dash_dash_ends_options = true;
  sub.app = add_subcommand(
      root, "parse",
      "Print the energy and CO2eq of the runs logged in carbontracker-format log folders.\n"
      "Reads every carbontracker-format log pair (carbontracker 2.3, 2.4 and epochwatt's own) in the folders DIR and "
      "prints carbontracker's aggregate sentence: the energy and CO2eq of all runs. --table prints one row per run "
      "instead, --json everything read. Files that cannot be read are skipped with a warning on stderr.");
  sub.app->footer("Exit status: 0 if a run was read, 1 if none, 2 for a bad command line. More: docs/parse.md.");
  add_help(*sub.app, ctx, sub.help.get());
  add_flag(*sub.app, ctx, "--table", "Print one row per run and a total row.", [a] { a->table = true; });
  add_flag(*sub.app, ctx, "--json", "Print everything read as JSON (schema epochwatt-parse/1).", [a] { a->json = true; });
  add_flag(*sub.app, ctx, "--by-job",
           "Group the runs of multi-process jobs by job id and step and sum each job with every device counted once "
           "per node; warn about missing ranks and devices measured twice. With --json: schema epochwatt-parse-jobs/1.",
           [a] { a->by_job = true; });
  add_positionals(*sub.app, "DIR", "Log folders to read.", [a](const std::string& dir) { a->dirs.push_back(dir); })
      ->expected(1, CLI::detail::expected_max_vector_size)
      ->allow_extra_args();
  sub.message = [](const BadArgument& bad) {
    return bad_argument_message(bad, "epochwatt parse --help");
  };
  sub.run = [a](std::ostream& out, std::ostream& err) {
    if (a->table && a->json) throw CliError("--table and --json exclude each other");
    if (a->dirs.empty()) throw CliError("needs at least one DIR (see epochwatt parse --help)");
    if (a->by_job) return parse_dirs_by_job(a->dirs, a->table, a->json, out, err);
    return parse_dirs(a->dirs, a->table, a->json, out, err);
  };
  return sub;
}

void write_parse_warnings(detail::JsonStreamWriter& w, const std::vector<detail::ParseWarning>& warnings) {
  w.begin_array();
  for (const auto& warning : warnings) {
    w.begin_object();
    w.key("file"), w.value(warning.file);
    w.key("message"), w.value(warning.message);
    w.end_object();
  }
  w.end_array();
}

int parse_dirs(const std::vector<std::string>& dirs, bool table, bool json, std::ostream& out, std::ostream& err) {
  // One run at a time (docs/parse.md, "Memory and speed"): each run read is added to the sums and
  // written (JSON) or turned into its row (table), then let go.
  detail::Aggregator sum;
  BasisSum basis;
  ParseTable rows;
  std::optional<JsonStreamWriter> writer;
  std::vector<detail::ParseWarning> warnings;      // for the JSON's "warnings" (not kept otherwise)
  std::vector<detail::ParseWarning> nan_warnings;  // said after the reader's own, as before streaming
  std::size_t runs = 0;
  if (json) {
    writer.emplace(out);
    writer->begin_object();
    writer->key("schema"), writer->value("epochwatt-parse/1");
    writer->key("runs");
    writer->begin_array();
  }
  auto on_warning = [&](detail::ParseWarning&& w) {
    err << "epochwatt: warning: " << w.file << ": " << w.message << "\n";
    if (json) warnings.push_back(std::move(w));
  };
  auto on_run = [&](ParsedRun& r) {
    ++runs;
    sum.add(r);
    // A NaN total (the original writes `nan kWh` for a run it could not measure) is left out of
    // the aggregate; each such run gets its warning, on stderr and in the JSON `warnings`.
    if (const ParsedConsumption* c = summed(r); c && (std::isnan(c->energy_kwh) || std::isnan(c->co2_g)))
      nan_warnings.push_back({r.output_log, "logged nan energy or CO2eq; left out of the totals"});
    if (json) write_run_json(*writer, r);
    if (table) rows.add(r);
    else basis.add(r);
  };
  detail::for_each_log_run(dirs, on_run, on_warning);
  for (auto& w : nan_warnings) on_warning(std::move(w));
  detail::Aggregate total = sum.result();
  if (json) {
    JsonStreamWriter& w = *writer;
    w.end_array();
    w.key("aggregate");
    w.begin_object();
    w.key("energy_kwh"), w.value(total.energy_kwh);
    w.key("co2_g"), w.value(total.co2_g);
    w.key("equivalents"), write_equivalents(w, total.equivalents);
    w.key("runs"), w.value(std::uint64_t{total.runs});
    w.key("runs_summed"), w.value(std::uint64_t{total.runs_summed});
    w.key("sentence"), w.value(detail::aggregate_sentence(total));
    const detail::EnergyByBasis& b = basis.total();
    w.key("energy_basis");
    w.begin_object();
    w.key("measured_kwh"), w.value(b.measured_j);
    w.key("estimated_kwh"), w.value(b.estimated_j);
    w.key("unknown_kwh"), w.value(b.unknown_j);
    w.key("measured"), w.value(b.measured);
    w.key("estimated"), w.value(b.estimated);
    w.key("unknown"), w.value(b.unknown);
    w.key("sentence"), w.value(detail::basis_sentence(b));
    w.end_object();
    w.end_object();
    w.key("warnings");
    write_parse_warnings(w, warnings);
    w.end_object();
    w.flush();
    out << "\n";
  } else if (table) {
    rows.write(out, total);
  } else {
    // carbontracker's sentence word for word (it always says "estimated" and "Measured by"), then
    // on its own line which part of the energy was measured and which estimated.
    out << detail::aggregate_sentence(total) << "\n";
    std::string basis_line = detail::basis_sentence(basis.total());
    if (!basis_line.empty()) out << basis_line << "\n";
  }
  out.flush();
  if (runs == 0) {
    err << "epochwatt: no carbontracker log pair could be read in the given folder(s)\n";
    return 1;
  }
  return 0;
}

}  // namespace epochwatt::cli
