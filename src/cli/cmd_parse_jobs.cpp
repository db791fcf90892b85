#include "cli/cmd_parse_jobs.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <ostream>

#include "cli/cmd_parse.hpp"
#include "core/format.hpp"
#include "report/job_files.hpp"
#include "report/json_stream.hpp"
#include "report/log_parse.hpp"

namespace epochwatt::cli {
namespace {

using detail::JobFilesReport;
using detail::JsonStreamWriter;
using detail::ParsedConsumption;
using detail::ParsedRun;

constexpr std::string_view kKmUnit = "km travelled by car";

const ParsedConsumption* summed_block_of(const ParsedRun& r) {
  switch (detail::summed_block(r)) {
    case detail::SummedBlock::actual: return &*r.actual;
    case detail::SummedBlock::predicted: return &*r.predicted;
    case detail::SummedBlock::none: break;
  }
  return nullptr;
}

// The --table output: one row per job, one per run without a job id, a total row; columns
// aligned, numbers to the right.
class JobTable {
 public:
  static constexpr std::size_t kColumns = 9;
  using Row = std::array<std::string, kColumns>;
  JobTable() { rows_.push_back({"job", "ranks", "nodes", "epochs", "time", "kWh", "gCO2e", "devices", "warnings"}); }
  void add_run(const ParsedRun& r) {
    const ParsedConsumption* c = summed_block_of(r);
    std::size_t devices = 0;
    for (const auto& comp : r.components) devices += comp.devices.size();
    rows_.push_back({"run " + r.id, "-", "-", std::to_string(r.actual ? r.actual->epochs : r.epochs_done()),
                     c && c->duration_s ? detail::report_time(*c->duration_s) : "-",
                     c ? detail::fixed(c->energy_kwh, 6) : "-", c ? detail::fixed(c->co2_g, 3) : "-",
                     std::to_string(devices), "0"});
  }
  void add_job(const JobFilesReport& j) {
    rows_.push_back({j.label(), std::to_string(j.runs.size()) + "/" + std::to_string(j.world_size),
                     std::to_string(j.nodes.size()), std::to_string(j.epochs), detail::report_time(j.duration_s),
                     detail::fixed(j.energy_kwh, 6), detail::fixed(j.co2_g, 3),
                     std::to_string(j.devices.size()) + (j.duplicates ? " (+" + std::to_string(j.duplicates) + " twice)" : ""),
                     std::to_string(j.warnings.size())});
  }
  void write(std::ostream& out, const detail::Aggregate& total, std::size_t jobs) {
    rows_.push_back({"total (" + std::to_string(jobs) + " job(s), " + std::to_string(total.runs) + " run(s))", "", "", "",
                     "", detail::fixed(total.energy_kwh, 6), detail::fixed(total.co2_g, 3), "", ""});
    static constexpr bool right[kColumns] = {false, true, true, true, true, true, true, true, true};
    std::array<std::size_t, kColumns> width{};
    for (const Row& row : rows_)
      for (std::size_t i = 0; i < kColumns; ++i) width[i] = std::max(width[i], row[i].size());
    for (const Row& row : rows_) {
      std::string line;
      for (std::size_t i = 0; i < kColumns; ++i) {
        if (i) line += "  ";
        std::size_t pad = width[i] - row[i].size();
        if (right[i]) line.append(pad, ' ');
        line += row[i];
        if (!right[i]) line.append(pad, ' ');
      }
      while (!line.empty() && line.back() == ' ') line.pop_back();
      out << line << '\n';
    }
    rows_.clear();
  }

 private:
  std::vector<Row> rows_;
};

// A run without a job id in the JSON's "runs": what the sum took of it.
void write_lone_run(JsonStreamWriter& w, const ParsedRun& r) {
  const ParsedConsumption* c = summed_block_of(r);
  w.begin_object();
  w.key("id"), w.value(r.id);
  w.key("version"), w.value(r.version);
  w.key("standard_log"), w.value(r.std_log);
  w.key("output_log"), w.value(r.output_log);
  w.key("summed"), w.value(detail::to_string(detail::summed_block(r)));
  w.key("epochs_done"), w.value(r.epochs_done());
  w.key("energy_kwh"), c ? w.value(c->energy_kwh) : w.null();
  w.key("co2_g"), c ? w.value(c->co2_g) : w.null();
  w.end_object();
}

void write_device(JsonStreamWriter& w, const detail::RankDevice& d) {
  w.key("meter"), w.value(d.meter);
  w.key("device"), w.value(d.device);
  w.key("component"), w.value(d.component);
  w.key("method"), w.value(d.method);
  w.key("node_wide"), w.value(d.node_wide);
  w.key("joules"), w.value(d.joules);
}

void write_job(JsonStreamWriter& w, const JobFilesReport& j) {
  w.begin_object();
  w.key("job_id"), w.value(j.job_id);
  w.key("step_id"), w.value(j.step_id);
  w.key("label"), w.value(j.label());
  w.key("world_size"), w.value(j.world_size);
  w.key("ranks_found"), w.value(std::uint64_t{j.runs.size()});
  w.key("missing_ranks"), w.value(j.missing_ranks);
  w.key("nodes"), w.value(j.nodes);
  w.key("epochs"), w.value(j.epochs);
  w.key("duration_s"), w.value(j.duration_s);
  w.key("it_joules"), w.value(j.it_joules);
  w.key("it_joules_measured"), w.value(j.it_joules_measured);
  w.key("energy_kwh"), w.value(j.energy_kwh);
  w.key("co2_g"), w.value(j.co2_g);
  w.key("km"), w.value(j.km);
  w.key("duplicates"), w.value(std::uint64_t{j.duplicates});
  w.key("devices");
  w.begin_array();
  for (const auto& d : j.devices) {
    w.begin_object();
    w.key("node"), w.value(d.node);
    w.key("rank"), w.value(d.rank);
    write_device(w, d.device);
    w.key("also_measured_by"), w.value(d.also_measured_by);
    w.end_object();
  }
  w.end_array();
  w.key("ranks");
  w.begin_array();
  for (std::size_t i = 0; i < j.runs.size(); ++i) {
    const detail::RankRun& r = j.runs[i];
    const detail::RankShare& s = j.shares[i];
    w.begin_object();
    w.key("rank"), w.value(r.job.rank);
    w.key("local_rank"), w.value(r.job.local_rank);
    w.key("world_size"), w.value(r.job.world_size);
    w.key("local_world_size"), w.value(r.job.local_world_size);
    w.key("node"), w.value(r.job.node);
    w.key("node_rank"), w.value(r.job.node_rank);
    w.key("launcher"), w.value(r.job.launcher);
    w.key("id"), w.value(r.id);
    w.key("standard_log"), w.value(r.std_log);
    w.key("output_log"), w.value(r.output_log);
    w.key("epochs"), w.value(r.epochs);
    w.key("duration_s"), w.value(r.duration_s);
    w.key("pue"), w.value(r.pue);
    w.key("intensity"), w.value(r.intensity);
    w.key("it_joules_measured"), w.value(s.it_joules_measured);
    w.key("it_joules_counted"), w.value(s.it_joules_counted);
    w.key("energy_kwh"), w.value(s.energy_kwh);
    w.key("co2_g"), w.value(s.co2_g);
    w.key("devices");
    w.begin_array();
    for (const auto& d : r.devices) {
      w.begin_object();
      write_device(w, d);
      w.end_object();
    }
    w.end_array();
    w.end_object();
  }
  w.end_array();
  w.key("warnings"), w.value(j.warnings);
  w.end_object();
}

// The job's line under the sentence.
std::string job_sentence(const JobFilesReport& j) {
  std::string s = j.label() + ": " + std::to_string(j.runs.size()) + " of " + std::to_string(j.world_size) +
                  " ranks on " + std::to_string(j.nodes.size()) + " node" + (j.nodes.size() == 1 ? "" : "s") + ", " +
                  std::to_string(j.epochs) + " epoch(s), " + detail::fixed(j.energy_kwh, 12) + " kWh, " +
                  detail::fixed(j.co2_g, 6) + " gCO2eq; " + std::to_string(j.devices.size()) + " device(s) counted once";
  if (j.duplicates) s += ", " + std::to_string(j.duplicates) + " duplicate measurement(s) left out";
  return s + ".";
}

}  // namespace

int parse_dirs_by_job(const std::vector<std::string>& dirs, bool table, bool json, std::ostream& out,
                      std::ostream& err) {
  detail::Aggregator lone;   // runs without a job id, summed as `parse` sums them
  detail::JobGrouper jobs;
  JobTable rows;
  std::optional<JsonStreamWriter> writer;
  std::vector<detail::ParseWarning> warnings;
  std::size_t runs = 0, ours = 0;
  if (json) {
    writer.emplace(out);
    writer->begin_object();
    writer->key("schema"), writer->value("epochwatt-parse-jobs/1");
    writer->key("runs");
    writer->begin_array();
  }
  auto on_warning = [&](detail::ParseWarning&& w) {
    err << "epochwatt: warning: " << (w.file.empty() ? "" : w.file + ": ") << w.message << "\n";
    if (json) warnings.push_back(std::move(w));
  };
  auto on_run = [&](ParsedRun& r) {
    ++runs;
    if (r.version == "epochwatt") ++ours;
    if (jobs.add(r)) return;
    lone.add(r);
    if (const ParsedConsumption* c = summed_block_of(r); c && (std::isnan(c->energy_kwh) || std::isnan(c->co2_g)))
      on_warning({r.output_log, "logged nan energy or CO2eq; left out of the totals"});
    if (json) write_lone_run(*writer, r);
    if (table) rows.add_run(r);
  };
  detail::for_each_log_run(dirs, on_run, on_warning);
  std::vector<JobFilesReport> reports = jobs.finish();
  for (const auto& j : reports)
    for (const auto& w : j.warnings) on_warning({"", w});

  detail::Aggregate total = lone.result();
  double km = 0.0;
  for (const auto& j : reports) {
    total.energy_kwh += j.energy_kwh;
    total.co2_g += j.co2_g;
    km += j.km;
    total.runs += j.runs.size();
    total.runs_summed += j.runs.size();
  }
  if (!reports.empty()) {
    auto it = std::find_if(total.equivalents.begin(), total.equivalents.end(),
                           [](const auto& e) { return e.first == kKmUnit; });
    if (it == total.equivalents.end()) total.equivalents.emplace_back(std::string(kKmUnit), km);
    else it->second += km;
  }
  total.measured_by = detail::measured_by_counts(ours, runs);

  if (json) {
    JsonStreamWriter& w = *writer;
    w.end_array();
    w.key("jobs");
    w.begin_array();
    for (const auto& j : reports) write_job(w, j);
    w.end_array();
    w.key("aggregate");
    w.begin_object();
    w.key("energy_kwh"), w.value(total.energy_kwh);
    w.key("co2_g"), w.value(total.co2_g);
    w.key("equivalents");
    w.begin_object();
    for (const auto& [unit, value] : total.equivalents) w.key(unit), w.value(value);
    w.end_object();
    w.key("runs"), w.value(std::uint64_t{total.runs});
    w.key("runs_summed"), w.value(std::uint64_t{total.runs_summed});
    w.key("jobs"), w.value(std::uint64_t{reports.size()});
    w.key("sentence"), w.value(detail::aggregate_sentence(total));
    w.end_object();
    w.key("warnings");
    write_parse_warnings(w, warnings);
    w.end_object();
    w.flush();
    out << "\n";
  } else if (table) {
    for (const auto& j : reports) rows.add_job(j);
    rows.write(out, total, reports.size());
  } else {
    out << detail::aggregate_sentence(total) << "\n";
    for (const auto& j : reports) out << job_sentence(j) << "\n";
  }
  out.flush();
  if (runs == 0) {
    err << "epochwatt: no carbontracker log pair could be read in the given folder(s)\n";
    return 1;
  }
  return 0;
}

}  // namespace epochwatt::cli
