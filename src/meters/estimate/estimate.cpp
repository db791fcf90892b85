#include "meters/estimate/estimate.hpp"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <limits>
#include <map>
#include <set>
#include <sstream>

#include "core/format.hpp"
#include "core/linear_meter.hpp"
#include "meters/estimate/proc_reader.hpp"
#include "meters/estimate/tdp_table.hpp"
#include "meters/sysfs/process_tree.hpp"

namespace epochwatt::meters {
namespace {

// Busy and total jiffies of the whole machine from the first line of /proc/stat, through the
// FileReader seam (discovery, and meters given another reader); *why says what went wrong when it
// returns false. The meter's own readings use PreadFile instead.
bool machine_jiffies(const EstimateConfig& c, double* busy, double* total, std::string* why) {
  ReadResult r = c.reader->read(c.proc_root + "/stat");
  if (!r.text) {
    *why = read_error_text(r);
    return false;
  }
  return parse_cpu_jiffies(*r.text, busy, total, why);
}

int thread_count(const EstimateConfig& c) {
  auto text = c.reader->read(c.proc_root + "/stat").text;
  int n = 0;
  if (text) {
    std::istringstream in(*text);
    std::string line;
    while (std::getline(in, line))
      if (line.size() > 3 && line.compare(0, 3, "cpu") == 0 && std::isdigit(static_cast<unsigned char>(line[3]))) ++n;
  }
  return n > 0 ? n : 1;
}

// CPU ticks of a process and all its descendants: utime + stime + cutime + cstime (children that
// exited and were waited for are in their parent's cutime/cstime).
double tree_ticks(const EstimateConfig& c, pid_t root) {
  double ticks = 0;
  for (pid_t pid : process_tree(root, c.proc_root, *c.reader)) {
    auto f = proc_stat_fields(pid, c.proc_root, *c.reader);
    if (!f || f->size() < 15) continue;
    try {
      ticks += std::stod((*f)[11]) + std::stod((*f)[12]) + std::stod((*f)[13]) + std::stod((*f)[14]);
    } catch (const std::exception&) {
      // a malformed line counts nothing
    }
  }
  return ticks;
}

// Cumulative between reads: the energy between two reads is TDP x (busy / total jiffies between
// them) x the time between them (the machine; total jiffies grow with time, so reads in between
// change nothing), or TDP x busy ticks / (ticks per s x threads) (the process tree); the jiffies
// are 64-bit and never wrap.
class CpuEstimateMeter final : public Meter, public detail::CumulativeBetweenReads {
 public:
  CpuEstimateMeter(EstimateConfig cfg, CpuEstimateBasis basis) : cfg_(std::move(cfg)), basis_(std::move(basis)) {
    // The machine's utilisation from /proc/stat kept open (PreadFile), unless a test injected
    // its own FileReader, which then answers every reading.
    if (!cfg_.process_tree && cfg_.reader == real_file_reader())
      stat_file_ = std::make_unique<PreadFile>(cfg_.proc_root + "/stat");
    info_.id = cfg_.process_tree ? "estimate:cpu-tree" : "estimate:cpu";
    info_.component = Component::cpu;
    info_.device_name = basis_.model_name;
    info_.method = Method::estimate;
    // No period of its own (0: the tracker's update_interval): the jiffies are 64-bit cumulative
    // counters that never wrap, so reading more often adds only resolution, which is what
    // update_interval asks for; a user who raises it wakes the sampler less (docs/performance.md).
    info_.poll_period_s = 0.0;
    info_.detail = "TDP " + detail::readable(basis_.tdp_w) + " W (" + basis_.tdp_source + ") x utilisation of " +
                   (cfg_.process_tree ? "the tracked process tree" : "the whole machine") + " from /proc/stat";
    ticks_per_s_ = static_cast<double>(::sysconf(_SC_CLK_TCK));
    if (ticks_per_s_ <= 0) ticks_per_s_ = 100;
  }
  const MeterInfo& info() const override { return info_; }
  double longest_period_s() const override { return std::numeric_limits<double>::infinity(); }
  void open(double t) override {
    last_t_ = t;
    std::string why;
    sample(&last_busy_, &last_total_, &why);
  }
  MeterReading read(double t) override {
    MeterReading r;
    double busy = 0, total = 0;
    std::string why;
    if (!sample(&busy, &total, &why)) {
      r.ok = false;
      r.error = "cannot read CPU utilisation from " + cfg_.proc_root + "/stat: " + why;
      r.joules = joules_;
      return r;
    }
    double dt = t - last_t_;
    if (dt > 0) {
      double util = 0;
      if (cfg_.process_tree)
        util = (busy - last_busy_) / (dt * ticks_per_s_ * basis_.threads);
      else if (total > last_total_)
        util = (busy - last_busy_) / (total - last_total_);
      util = std::clamp(util, 0.0, 1.0);
      joules_ += basis_.tdp_w * util * dt;
    }
    last_t_ = t;
    last_busy_ = busy;
    last_total_ = total;
    r.joules = joules_;
    return r;
  }

 private:
  bool sample(double* busy, double* total, std::string* why) {
    if (stat_file_) {
      std::string_view head;
      return stat_file_->read_head(&head, why) && parse_cpu_jiffies(head, busy, total, why);
    }
    if (!cfg_.process_tree) return machine_jiffies(cfg_, busy, total, why);
    *busy = tree_ticks(cfg_, cfg_.root_pid ? cfg_.root_pid : ::getpid());
    *total = 0;
    return true;
  }
  EstimateConfig cfg_;
  CpuEstimateBasis basis_;
  MeterInfo info_;
  std::unique_ptr<PreadFile> stat_file_;  // the machine's /proc/stat, open between readings
  double ticks_per_s_ = 100;
  double last_t_ = 0, last_busy_ = 0, last_total_ = 0, joules_ = 0;
};

// Installed memory x W/GB: a constant power, exact by interpolation between any two readings, so
// the sampler reads it rarely (kDramPollS, and wherever a boundary needs a reading after it),
// not at every round (detail::LinearBetweenReads).
class DramEstimateMeter final : public Meter, public detail::LinearBetweenReads {
 public:
  DramEstimateMeter(MeterInfo info, double watts) : info_(std::move(info)), watts_(watts) {}
  const MeterInfo& info() const override { return info_; }
  void open(double t) override { t_open_ = t; }
  MeterReading read(double t) override {
    MeterReading r;
    r.joules = t > t_open_ ? watts_ * (t - t_open_) : 0.0;
    return r;
  }

 private:
  MeterInfo info_;
  double watts_;
  double t_open_ = 0.0;
};

}  // namespace

CpuEstimateBasis cpu_estimate_basis(const EstimateConfig& c) {
  CpuEstimateBasis b;
  b.model_name = "Unknown CPU";
  if (auto text = c.reader->read(c.proc_root + "/cpuinfo").text) {
    std::istringstream in(*text);
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("model name", 0) != 0) continue;
      auto colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string v = line.substr(colon + 1);
      v.erase(0, v.find_first_not_of(" \t"));
      if (!v.empty()) b.model_name = v;
      break;
    }
  }
  b.threads = thread_count(c);
  if (auto m = match_cpu_tdp(b.model_name)) {
    b.tdp_w = m->entry.tdp_w;
    b.tdp_source = "TDP table (" + m->how + " match: " + m->entry.model + ")";
  } else {
    b.tdp_w = kFallbackWattsPerThread * b.threads;
    b.tdp_source = "model not in the TDP table: fallback " + detail::readable(kFallbackWattsPerThread) +
                   " W/thread x " + std::to_string(b.threads) + " threads";
  }
  return b;
}

double installed_memory_gb(const EstimateConfig& c) {
  auto text = c.reader->read(c.proc_root + "/meminfo").text;
  if (!text) return 0;
  std::istringstream in(*text);
  std::string key;
  double kb = 0;
  std::string unit;
  while (in >> key >> kb >> unit)
    if (key == "MemTotal:") return kb / (1024.0 * 1024.0);
  return 0;
}

Discovery discover_estimate(const EstimateConfig& c, bool cpu, bool dram) {
  Discovery d;
  if (cpu) d.meters.push_back(std::make_shared<CpuEstimateMeter>(c, cpu_estimate_basis(c)));
  if (dram) {
    double gb = installed_memory_gb(c);
    if (gb > 0) {
      MeterInfo info;
      info.id = "estimate:dram";
      info.component = Component::dram;
      info.device_name = "dram:estimate";
      info.method = Method::estimate;
      double watts = gb * kDramWattsPerGb;
      info.detail = detail::fixed(gb, 2) + " GB installed x " + detail::readable(kDramWattsPerGb) +
                    " W/GB = " + detail::fixed(watts, 2) + " W, constant";
      info.poll_period_s = kDramPollS;
      d.meters.push_back(std::make_shared<DramEstimateMeter>(std::move(info), watts));
    }
    else if (!cpu) d.reason = "cannot read installed memory from " + c.proc_root + "/meminfo";
  }
  return d;
}

}  // namespace epochwatt::meters
