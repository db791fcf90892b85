#include "report/codecarbon_csv.hpp"

#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>
#include <vector>

#include "core/bounded_file.hpp"
#include "core/format.hpp"

namespace epochwatt::detail {
namespace {


// Numbers as CodeCarbon's pandas writes them (Python repr), never through the locale.
std::string num(double v) { return python_float_repr(v); }
std::string num(std::optional<double> v) { return v ? num(*v) : ""; }

std::string trim(const std::string& s) {
  std::size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

}  // namespace

HostFacts read_host_facts(const std::string& proc_root) {
  HostFacts h;
  utsname u{};
  if (::uname(&u) == 0) h.os = std::string(u.sysname) + "-" + u.release + "-" + u.machine;
  long cpus = ::sysconf(_SC_NPROCESSORS_ONLN);
  if (cpus > 0) h.cpu_count = static_cast<int>(cpus);
  // Never blocking, never huge: a FIFO or anything odd in proc_root leaves the field empty.
  auto proc_file = [&](const char* name) {
    BoundedFile f = read_bounded_file(proc_root + "/" + name, 1u << 20, /*no_follow=*/false);
    return std::istringstream(f.status == BoundedFile::Status::ok ? f.text : std::string());
  };
  std::istringstream cpuinfo = proc_file("cpuinfo");
  for (std::string line; std::getline(cpuinfo, line);) {
    if (line.rfind("model name", 0) == 0 && line.find(':') != std::string::npos) {
      h.cpu_model = trim(line.substr(line.find(':') + 1));
      break;
    }
  }
  std::istringstream meminfo = proc_file("meminfo");
  for (std::string line; std::getline(meminfo, line);) {
    if (line.rfind("MemTotal:", 0) == 0) {
      // "MemTotal:       16323148 kB"; from_chars-free: digits only, no locale involved.
      double kib = 0;
      bool any = false;
      for (char c : line)
        if (c >= '0' && c <= '9') kib = kib * 10 + (c - '0'), any = true;
      if (any) h.ram_total_gib = kib / (1024.0 * 1024.0);
      break;
    }
  }
  return h;
}

std::string csv_field(std::string_view value) {
  if (value.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(value);
  std::string out = "\"";
  for (char c : value) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string codecarbon_header(bool job_columns) {
  std::string out;
  // Appends only: `"," + std::string` trips g++ 12's -Wrestrict at -O3 (GCC bug 105651).
  for (std::size_t i = 0; i < kCodeCarbonColumns.size(); ++i) {
    if (i) out += ',';
    out += kCodeCarbonColumns[i];
  }
  if (job_columns)
    for (auto name : kJobColumns) {
      out += ',';
      out += name;
    }
  return out + "\n";
}

std::string codecarbon_row(const Run& r, const HostFacts& host, bool job_columns) {
  // Joules of each component over the counted epochs (the interrupted one is not counted, as in
  // the totals); a component without a meter stays empty rather than 0.
  std::map<Component, double> joules;
  for (const auto& m : r.context.meters) joules.emplace(m.component, 0.0);
  const EpochTable& t = r.epochs;
  double duration = t.counted_s();
  for (std::size_t i = 0; i < t.size(); ++i) {  // in epoch order, as the totals are summed
    if (t.interrupted(i)) continue;
    for (std::size_t c = 0; c < t.devices().size(); ++c)
      if (auto j = t.device_joules(i, c)) joules[t.devices()[c].component] += *j;
  }
  if (r.actual) duration = r.actual->duration_s;
  auto power = [&](Component c) -> std::optional<double> {
    if (!joules.count(c) || duration <= 0) return std::nullopt;
    return joules[c] / duration;
  };
  auto energy = [&](Component c) -> std::optional<double> {
    if (!joules.count(c)) return std::nullopt;
    return joules[c] * r.context.pue / kJoulesPerKwh;
  };
  double total_kwh = 0;
  for (const auto& [c, j] : joules) total_kwh += j * r.context.pue / kJoulesPerKwh;
  if (r.actual) total_kwh = r.actual->energy_kwh;
  std::optional<double> emissions_kg;
  if (r.actual) emissions_kg = r.actual->co2_g / 1000.0;
  std::optional<double> rate;
  if (emissions_kg && duration > 0) rate = *emissions_kg / duration;

  int gpu_count = 0;
  std::vector<std::pair<std::string, int>> gpu_models;  // CodeCarbon's "2 x NAME", in order
  for (const auto& m : r.context.meters) {
    if (m.component != Component::gpu) continue;
    ++gpu_count;
    auto it = std::find_if(gpu_models.begin(), gpu_models.end(), [&](const auto& p) { return p.first == m.device_name; });
    if (it == gpu_models.end())
      gpu_models.emplace_back(m.device_name, 1);
    else
      ++it->second;
  }
  std::string gpu_model;
  for (const auto& [name, n] : gpu_models) gpu_model += (gpu_model.empty() ? "" : ", ") + std::to_string(n) + " x " + name;

  std::string cloud_provider, cloud_region;
  if (!r.location.cloud.empty()) {
    auto colon = r.location.cloud.find(':');
    cloud_provider = r.location.cloud.substr(0, colon);
    if (colon != std::string::npos) cloud_region = r.location.cloud.substr(colon + 1);
  }

  std::vector<std::string> fields = {
      utc_iso8601(r.finished),                          // timestamp
      r.context.tool_name,                                      // project_name
      r.context.run_id,                                         // run_id
      "",                                               // experiment_id: a CodeCarbon dashboard id
      num(duration),                                    // duration, s
      num(emissions_kg),                                // emissions, kg CO2e
      num(rate),                                        // emissions_rate, kg/s
      num(power(Component::cpu)),                       // cpu_power, W
      num(power(Component::gpu)),                       // gpu_power, W
      num(power(Component::dram)),                      // ram_power, W
      num(energy(Component::cpu)),                      // cpu_energy, kWh
      num(energy(Component::gpu)),                      // gpu_energy, kWh
      num(energy(Component::dram)),                     // ram_energy, kWh
      num(total_kwh),                                   // energy_consumed, kWh
      "",                                               // water_consumed: not estimated
      "",                                               // country_name: no name table
      "",                                               // country_iso_code: CodeCarbon's is alpha-3
      r.location.region,                                // region
      cloud_provider,                                   // cloud_provider
      cloud_region,                                     // cloud_region
      host.os,                                          // os
      "",                                               // python_version
      "",                                               // codecarbon_version
      host.cpu_count ? std::to_string(*host.cpu_count) : "",
      host.cpu_model,                                   // cpu_model
      gpu_count ? std::to_string(gpu_count) : "",       // gpu_count
      gpu_model,                                        // gpu_model
      num(r.location.lon),                              // longitude
      num(r.location.lat),                              // latitude
      num(host.ram_total_gib),                          // ram_total_size, GB (GiB, as CodeCarbon)
      r.context.process_tracking ? "process" : "machine",       // tracking_mode
      "", "", "", "",                                   // utilisation and RAM use: not sampled
      r.location.cloud.empty() ? "" : "Y",              // on_cloud: only known when configured
      num(r.context.pue),                                       // pue
      "",                                               // wue: water not estimated
  };
  if (job_columns) {
    const JobIdentity& job = r.context.job;
    for (std::string v : {job.job_id, job.step_id, std::to_string(job.rank), std::to_string(job.local_rank),
                          std::to_string(job.world_size), job.node})
      fields.push_back(std::move(v));
  }
  std::string out;
  for (std::size_t i = 0; i < fields.size(); ++i) {  // appends only, as in codecarbon_header()
    if (i) out += ',';
    out += csv_field(fields[i]);
  }
  return out + "\n";
}

namespace {

// Fields of one CSV line (RFC 4180), and whether it ends inside a quoted field.
std::size_t csv_field_count(std::string_view line, bool* open_quote) {
  std::size_t fields = 1;
  bool quoted = false;
  for (char c : line) {
    if (c == '"') quoted = !quoted;  // a doubled quote toggles twice
    else if (c == ',' && !quoted) ++fields;
  }
  *open_quote = quoted;
  return fields;
}

}  // namespace

RecordFormat codecarbon_format(bool job_columns) {
  RecordFormat f;
  f.header = codecarbon_header(job_columns);
  std::string header_line = f.header.substr(0, f.header.size() - 1);
  std::size_t columns = job_columns ? kCsvColumnCount : kCodeCarbonColumns.size();
  f.ours = [header_line](std::string_view first) { return first == header_line; };
  f.whole = [columns](std::string_view last) {
    bool open = false;
    return csv_field_count(last, &open) == columns && !open;
  };
  f.end_cut = [](std::string_view last) -> std::string {
    bool open = false;
    csv_field_count(last, &open);
    return open ? "\"\n" : "\n";
  };
  return f;
}

void CsvReporter::run_finished(const Run& r) {
  // A file that an earlier version began, with CodeCarbon's 38 columns alone, gets rows of those:
  // a row longer than its header would break CSV readers. Anything else is judged by append_record.
  // Not for a rank of a multi-process job: a 38-column row would not say which job, rank and node
  // it is (the ranks' rows in one file could not be told apart), so its row goes to a sibling
  // with the job columns, as for any other header (append_record; docs/outputs.md).
  bool job_columns = true;
  struct stat st {};
  // Only a regular file is peeked at: opening a FIFO to read would wait for a writer.
  if (!r.context.job.multi_process() && ::stat(path().c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
    std::ifstream in(path());
    std::string first;
    if (in && std::getline(in, first) && first + "\n" == codecarbon_header(false)) job_columns = false;
  }
  guarded([&] {
    return append_record(sink(), path(), codecarbon_format(job_columns),
                         codecarbon_row(r, read_host_facts(proc_root_), job_columns));
  });
}

}  // namespace epochwatt::detail
