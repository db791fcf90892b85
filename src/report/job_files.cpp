#include "report/job_files.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>

#include "core/format.hpp"
#include "epochwatt/options.hpp"
#include "epochwatt/run.hpp"

namespace epochwatt::detail {
namespace {

// carbontracker's grouping of a meter's component: DRAM counts in "cpu" (spec §5.3).
std::string_view report_component(std::string_view component) { return component == "dram" ? "cpu" : component; }

bool is_per_process(std::string_view meter) { return meter.ends_with("-tree"); }

// The meter ids a figure covers: one, or several joined with '+' for a component total (no
// meter id has a '+': "nvml:0", "rapl:0", "estimate:cpu"); none where the log names no meter.
std::vector<std::string> meter_ids(const RankDevice& d) {
  std::vector<std::string> ids;
  for (std::size_t from = 0; !d.meter.empty() && from <= d.meter.size();) {
    std::size_t plus = d.meter.find('+', from);
    ids.push_back(d.meter.substr(from, plus == std::string::npos ? std::string::npos : plus - from));
    if (plus == std::string::npos) break;
    from = plus + 1;
  }
  return ids;
}

RankDevice& device_entry(std::vector<RankDevice>& devices, RankDevice probe) {
  for (auto& d : devices)
    if (d.meter == probe.meter && d.device == probe.device && d.component == probe.component) return d;
  probe.per_process = is_per_process(probe.meter);
  probe.node_wide = (probe.component == "cpu" || probe.component == "dram") && !probe.per_process;
  devices.push_back(std::move(probe));
  return devices.back();
}

// What identifies a device on its node: its meter id, else its component, name and position.
std::string device_key(const RankDevice& d, std::size_t position, int rank) {
  std::string key = d.meter.empty() ? d.component + "\x1f" + d.device + "\x1f" + std::to_string(position) : d.meter;
  if (d.per_process) {  // the process's own: never shared
    // Appended piecewise: g++ 12 -O3 takes `"\x1f" + std::to_string(rank)` for an overlapping
    // memcpy (-Wrestrict, a false positive) and the Release build fails with -Werror.
    key += '\x1f';
    key += std::to_string(rank);
  }
  return key;
}

std::string rank_list(const std::vector<int>& ranks) {
  std::string s;
  for (std::size_t i = 0; i < ranks.size(); ++i)
    s += (i == 0 ? "" : i + 1 == ranks.size() ? " and " : ", ") + std::to_string(ranks[i]);
  return s;
}

}  // namespace

RankRun rank_run_of(const ParsedRun& run) {
  RankRun out;
  out.id = run.id;
  out.std_log = run.std_log;
  out.output_log = run.output_log;
  if (run.job) out.job = *run.job;
  out.pue = run.pue.value_or(Options{}.pue);
  out.tool_is_epochwatt = run.version == "epochwatt";
  // A figure is shared when every meter it covers is (a component total covers several).
  auto mark_shared = [&] {
    for (auto& d : out.devices) {
      std::vector<std::string> ids = meter_ids(d);
      d.shared = !ids.empty() && std::all_of(ids.begin(), ids.end(), [&](const std::string& id) {
        return std::find(run.shared_meters.begin(), run.shared_meters.end(), id) != run.shared_meters.end();
      });
    }
  };
  for (const auto& e : run.epochs) {
    if (e.interrupted) continue;
    ++out.epochs;
    double d = e.duration_s.value_or(0.0);
    out.duration_s += d;
    for (const auto& p : e.powers) {
      std::vector<const ParsedMeter*> meters;
      for (const auto& m : run.meters)
        if (report_component(m.component) == p.component) meters.push_back(&m);
      if (!p.device_watts.empty()) {
        for (std::size_t k = 0; k < p.device_watts.size(); ++k) {
          RankDevice probe;
          const ParsedMeter* m = meters.size() == p.device_watts.size() ? meters[k] : nullptr;
          // The per-device line and the meter list disagree (a meter missing from one of them, a
          // name cut at "; "): a device whose name only one of the meters has is still that meter,
          // so that the node election's sharing and the once-per-node count still see it.
          if (!m && k < p.device_names.size()) {
            auto named = [&](const ParsedMeter* c) { return c->device == p.device_names[k]; };
            if (std::count_if(meters.begin(), meters.end(), named) == 1)
              m = *std::find_if(meters.begin(), meters.end(), named);
          }
          if (m) {
            probe = {m->meter, m->device, m->component, m->method};
          } else {
            probe.device = k < p.device_names.size() ? p.device_names[k] : p.component + " device " + std::to_string(k + 1);
            probe.component = p.component;
            probe.method = p.method;
          }
          double w = p.device_watts[k];
          device_entry(out.devices, std::move(probe)).joules += std::isnan(w) ? 0.0 : w * d;
        }
      } else {
        // Only the component's total: one entry for all its meters, known by their ids joined
        // with '+' in sorted order (the same whatever order a rank listed them in).
        RankDevice probe;
        probe.component = p.component;
        probe.method = p.method;
        std::vector<std::string> ids;
        for (const ParsedMeter* m : meters) {
          if (!m->meter.empty()) ids.push_back(m->meter);
          probe.device += (probe.device.empty() ? "" : ", ") + m->device;
        }
        std::sort(ids.begin(), ids.end());
        probe.meter = join(ids, "+");
        if (meters.size() == 1) probe.component = meters.front()->component;
        if (probe.device.empty()) probe.device = p.component;
        device_entry(out.devices, std::move(probe)).joules += p.watts && !std::isnan(*p.watts) ? *p.watts * d : 0.0;
      }
    }
  }
  mark_shared();
  if (run.setup) {
    out.duration_s += run.setup->first;
    out.setup_joules = run.setup->second;
  }
  auto ratio = [](const std::optional<ParsedConsumption>& c) -> std::optional<double> {
    if (c && c->energy_kwh > 0 && std::isfinite(c->co2_g / c->energy_kwh)) return c->co2_g / c->energy_kwh;
    return std::nullopt;
  };
  if (run.average_intensity) out.intensity = run.average_intensity;
  else if (auto a = ratio(run.actual)) out.intensity = a;
  else if (auto p = ratio(run.predicted)) out.intensity = p;
  else if (!run.intensities.empty())
    out.intensity = std::accumulate(run.intensities.begin(), run.intensities.end(), 0.0) /
                    static_cast<double>(run.intensities.size());
  return out;
}

std::string JobFilesReport::label() const {
  if (job_id.empty()) return "(ranks without a job id)" + (step_id.empty() ? std::string() : " step " + step_id);
  return "job " + job_id + (step_id.empty() ? "" : " step " + step_id);
}

JobFilesReport report_job_files(std::string job_id, std::string step_id, std::vector<RankRun> runs) {
  JobFilesReport r;
  r.job_id = std::move(job_id);
  r.step_id = std::move(step_id);
  std::stable_sort(runs.begin(), runs.end(), [](const RankRun& a, const RankRun& b) {
    return a.job.rank != b.job.rank ? a.job.rank < b.job.rank : a.id < b.id;
  });
  r.runs = std::move(runs);
  const std::string label = r.label();
  if (r.job_id.empty())
    r.warnings.push_back(label + ": these ranks' logs name no job id, so they are read as one job; give each job "
                                 "an id (Options::job_id, or the launcher's) to tell jobs apart");

  // World size, missing ranks, ranks read twice.
  std::set<int> sizes, seen;
  std::map<int, std::vector<std::string>> by_rank;
  for (const auto& run : r.runs) {
    sizes.insert(run.job.world_size);
    seen.insert(run.job.rank);
    by_rank[run.job.rank].push_back(run.id);
    if (std::find(r.nodes.begin(), r.nodes.end(), run.job.node) == r.nodes.end()) r.nodes.push_back(run.job.node);
  }
  r.world_size = sizes.empty() ? 0 : *sizes.rbegin();
  if (sizes.size() > 1) {
    std::vector<int> all(sizes.begin(), sizes.end());
    r.warnings.push_back(label + ": the ranks' logs disagree on the world size (" + rank_list(all) +
                         "); the largest, " + std::to_string(r.world_size) + ", is used");
  }
  for (int k = 0; k < r.world_size; ++k)
    if (!seen.count(k)) r.missing_ranks.push_back(k);
  if (!r.missing_ranks.empty())
    r.warnings.push_back(label + ": rank" + (r.missing_ranks.size() > 1 ? "s " : " ") + rank_list(r.missing_ranks) +
                         " of " + std::to_string(r.world_size) +
                         " left no log files here; the job's total lacks their energy");
  for (const auto& [rank, ids] : by_rank)
    if (ids.size() > 1)
      r.warnings.push_back(label + ": rank " + std::to_string(rank) + " has " + std::to_string(ids.size()) +
                           " runs (" + join(ids, ", ") + "); a device they share is counted once");

  // Each device once per node: the lowest rank's measurement counts.
  // A figure that covers other meters than the same figure of a lower rank (a component total
  // against the same meters one by one) is matched meter by meter (by_meter).
  std::map<std::pair<std::string, std::string>, std::size_t> counted;   // (node, key) -> r.devices index
  std::map<std::pair<std::string, std::string>, std::size_t> by_meter;  // (node, meter id) -> r.devices index
  auto node_name = [](const std::string& node) { return node.empty() ? std::string("(unnamed)") : node; };
  for (const auto& run : r.runs) {
    RankShare share;
    double counted_j = 0.0, measured_j = 0.0;
    const std::string rank_text = "rank " + std::to_string(run.job.rank) + " (" + run.id + ")";
    for (std::size_t i = 0; i < run.devices.size(); ++i) {
      const RankDevice& d = run.devices[i];
      measured_j += d.joules;
      auto it = counted.find({run.job.node, device_key(d, i, run.job.rank)});
      if (it == counted.end()) {
        std::vector<std::string> ids = d.per_process ? std::vector<std::string>{} : meter_ids(d);
        std::vector<std::size_t> overlapping;  // counted figures that cover some of ids
        std::vector<std::string> overlap;      // those of ids
        for (const auto& id : ids)
          if (auto m = by_meter.find({run.job.node, id}); m != by_meter.end()) {
            overlap.push_back(id);
            if (std::find(overlapping.begin(), overlapping.end(), m->second) == overlapping.end())
              overlapping.push_back(m->second);
          }
        bool elected = d.shared && std::all_of(overlapping.begin(), overlapping.end(),
                                               [&](std::size_t k) { return r.devices[k].device.shared; });
        std::vector<std::string> others;
        std::vector<int> other_ranks;
        for (std::size_t k : overlapping) {
          others.push_back(r.devices[k].device.meter);
          if (std::find(other_ranks.begin(), other_ranks.end(), r.devices[k].rank) == other_ranks.end())
            other_ranks.push_back(r.devices[k].rank);
        }
        const std::string what = rank_text + "'s " + d.component + " figure (meter" + (ids.size() > 1 ? "s " : " ") +
                                 d.meter + ")";
        if (!overlapping.empty() && !elected && overlap.size() == ids.size()) {
          // Every meter it covers is counted already, from a lower rank's figures grouped otherwise.
          r.warnings.push_back(label + ": node " + node_name(run.job.node) + ": " + what +
                               " covers meters counted already from rank" + (other_ranks.size() > 1 ? "s " : " ") +
                               rank_list(other_ranks) + " (" + join(others, ", ") + "); counted once, theirs");
          ++r.duplicates;
          continue;
        }
        if (!overlapping.empty() && !elected)
          r.warnings.push_back(label + ": node " + node_name(run.job.node) + ": " + what + " covers " +
                               join(overlap, ", ") + ", counted already from rank" +
                               (other_ranks.size() > 1 ? "s " : " ") + rank_list(other_ranks) + " (" +
                               join(others, ", ") + "), and other meters as well: counted too, so the job's total "
                               "may count " + join(overlap, ", ") + " twice");
        if (d.meter.empty() && !d.per_process && run.tool_is_epochwatt)
          r.warnings.push_back(label + ": " + rank_text + ": its " + d.component + " figure for " + d.device +
                               " is none of its meters alone (its per-device powers and its Measuring lines "
                               "disagree): counted as a device of its own, so if another rank on node " +
                               node_name(run.job.node) + " measured it too, it may be counted twice");
        counted.emplace(std::make_pair(run.job.node, device_key(d, i, run.job.rank)), r.devices.size());
        for (const auto& id : ids) by_meter.try_emplace({run.job.node, id}, r.devices.size());
        r.devices.push_back({run.job.node, run.job.rank, d, {}, {}});
        counted_j += d.joules;
      } else if (d.shared && r.devices[it->second].device.shared) {
        // The node election's claim: one holder at a time, so the ranks' figures add up.
        r.devices[it->second].device.joules += d.joules;
        r.devices[it->second].shared_with.push_back(run.job.rank);
        counted_j += d.joules;
      } else {
        r.devices[it->second].also_measured_by.push_back(run.job.rank);
        ++r.duplicates;
      }
    }
    // The set-up's energy in the share of the devices that count (all of it without duplicates).
    double setup = measured_j > 0 ? run.setup_joules * counted_j / measured_j : run.setup_joules;
    share.it_joules_measured = measured_j + run.setup_joules;
    share.it_joules_counted = counted_j + setup;
    Consumption c = footprint(run.epochs, run.duration_s, share.it_joules_counted, run.pue, run.intensity.value_or(0.0));
    share.energy_kwh = c.energy_kwh;
    share.co2_g = c.co2_g;
    if (!run.intensity)
      r.warnings.push_back(label + ": rank " + std::to_string(run.job.rank) + " (" + run.id +
                           ") logged no carbon intensity; its CO2eq is left out");
    r.it_joules += share.it_joules_counted;
    r.it_joules_measured += share.it_joules_measured;
    r.energy_kwh += share.energy_kwh;
    r.co2_g += share.co2_g;
    r.km += c.km_by_car;
    r.epochs = std::max(r.epochs, run.epochs);
    r.duration_s = std::max(r.duration_s, run.duration_s);
    r.shares.push_back(share);
  }
  for (const auto& d : r.devices) {
    if (d.also_measured_by.empty()) continue;
    std::vector<int> ranks{d.rank};
    ranks.insert(ranks.end(), d.also_measured_by.begin(), d.also_measured_by.end());
    r.warnings.push_back(label + ": node " + (d.node.empty() ? "(unnamed)" : d.node) + ": " + d.device.device + " (" +
                         d.device.component + (d.device.meter.empty() ? "" : ", meter " + d.device.meter) + (d.device.node_wide ? ", node-wide" : "") +
                         ") was measured by ranks " + rank_list(ranks) + "; counted once, rank " +
                         std::to_string(d.rank) + "'s");
  }
  return r;
}

bool JobGrouper::add(const ParsedRun& run) {
  if (!run.job) return false;
  ++runs_;
  jobs_[{run.job->job_id, run.job->step_id}].push_back(rank_run_of(run));
  return true;
}

std::vector<JobFilesReport> JobGrouper::finish() {
  std::vector<JobFilesReport> out;
  for (auto& [key, runs] : jobs_) out.push_back(report_job_files(key.first, key.second, std::move(runs)));
  jobs_.clear();
  runs_ = 0;
  return out;
}

}  // namespace epochwatt::detail
