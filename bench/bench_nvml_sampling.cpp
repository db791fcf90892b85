// How far carbontracker's power sampling drifts from the GPU's energy counter, next to epochwatt's
// counter and integrated-power methods, on a real H100 trace replayed through the fake NVML; and
// what one sampler round costs with 8 GPUs.
//
//   bench_nvml_sampling [TRACE.csv EPOCHS.csv]
//
// Sampling (carbontracker, spec D2): nvmlDeviceGetPowerUsage every 1 s or 10 s; an epoch's energy
// is the mean of the samples taken during it times its duration (an epoch without a sample takes
// the next sample, as carbontracker's D7 borrowing does). The phase of the sampling grid against
// the epochs is arbitrary, so the error is shown for phase 0 and summarised over 20 phases.
// Reference: the counter difference between the epoch bounds, each bound interpolated linearly
// between the trace's samples.
#include <dlfcn.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/timeline.hpp"
#include "meters/nvml/nvml.hpp"
#include "meters/rapl/rapl.hpp"

using namespace epochwatt;
using namespace epochwatt::meters;

namespace {

struct Row {
  double t, power_mw, energy_mj;
};
struct Bound {
  double start, end;
};

std::vector<Row> read_trace(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  std::vector<Row> rows;
  while (std::getline(in, line)) {
    Row r{};
    if (std::sscanf(line.c_str(), "%lf,%lf,%lf", &r.t, &r.power_mw, &r.energy_mj) == 3) rows.push_back(r);
  }
  return rows;
}

std::vector<Bound> read_epochs(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  std::vector<Bound> out;
  while (std::getline(in, line)) {
    int e;
    Bound b{};
    if (std::sscanf(line.c_str(), "%d,%lf,%lf", &e, &b.start, &b.end) == 3) out.push_back(b);
  }
  return out;
}

double counter_at(const std::vector<Row>& rows, double t) {
  auto it = std::upper_bound(rows.begin(), rows.end(), t, [](double v, const Row& r) { return v < r.t; });
  if (it == rows.begin()) return rows.front().energy_mj;
  if (it == rows.end()) return rows.back().energy_mj;
  const Row& a = *(it - 1);
  const Row& b = *it;
  return a.energy_mj + (b.energy_mj - a.energy_mj) * (t - a.t) / (b.t - a.t);
}

struct Fake {
  void (*set_time)(double) = nullptr;
  explicit Fake(const char* path) {
    void* h = ::dlopen(path, RTLD_NOW | RTLD_LOCAL);  // kept open: shared with the backend's handle
    if (h) set_time = reinterpret_cast<void (*)(double)>(::dlsym(h, "fake_nvml_set_time"));
  }
};

std::string write_scenario(const std::string& name, const std::string& text) {
  std::string path = "/tmp/epochwatt-bench-nvml-" + std::to_string(::getpid()) + "-" + name + ".txt";
  std::ofstream(path) << text;
  return path;
}

NvmlConfig config() {
  NvmlConfig c;
  c.library = FAKE_NVML_LIBRARY;
  c.getenv = [](const char*) -> const char* { return nullptr; };  // all GPUs, whatever the shell says
  return c;
}

// Power at trace time t as nvmlDeviceGetPowerUsage returns it (the latest published value).
double power_at(const std::vector<Row>& rows, double t) {
  auto it = std::upper_bound(rows.begin(), rows.end(), t, [](double v, const Row& r) { return v < r.t; });
  return (it == rows.begin() ? rows.front() : *(it - 1)).power_mw / 1000.0;
}

// carbontracker's estimate of each epoch: power samples every `interval` from `phase` on.
std::vector<double> sampling_estimate(const std::vector<Row>& rows, const std::vector<Bound>& epochs,
                                      double interval, double phase) {
  std::vector<double> samples_t;
  for (double t = phase; t <= rows.back().t; t += interval) samples_t.push_back(t);
  std::vector<double> out;
  for (const auto& e : epochs) {
    double sum = 0;
    int n = 0;
    for (double t : samples_t)
      if (t >= e.start && t <= e.end) sum += power_at(rows, t), ++n;
    if (n == 0) {  // no sample inside: the next one stands in for the epoch
      auto it = std::lower_bound(samples_t.begin(), samples_t.end(), e.end);
      sum = power_at(rows, it == samples_t.end() ? rows.back().t : *it);
      n = 1;
    }
    out.push_back(sum / n * (e.end - e.start));
  }
  return out;
}

// epochwatt: the meter read by a sampler at its own period plus one read at every boundary;
// epoch energy = difference of the timeline at the bounds (linear between reads).
std::vector<double> epochwatt_estimate(const Fake& fake, const std::vector<Bound>& epochs, bool counter,
                                       const std::string& trace, int* reads) {
  std::string scenario = write_scenario(counter ? "counter" : "power",
                                        "clock = manual\n[gpu]\nname = NVIDIA H100 80GB HBM3\nenergy = " +
                                            std::string(counter ? "yes" : "no") + "\ntrace = " + trace + "\n");
  ::setenv("FAKE_NVML_SCENARIO", scenario.c_str(), 1);
  fake.set_time(0.0);
  std::vector<double> out;
  {
    NvmlDiscovery d = find_nvml(config());
    if (d.meters.size() != 1) {
      std::fprintf(stderr, "fake NVML: %s\n", d.reason.c_str());
      std::exit(1);
    }
    Meter& m = *d.meters[0];
    double period = m.info().poll_period_s;
    std::vector<double> times;
    double end = epochs.back().end + 0.5;
    for (int k = 0; k * period <= end; ++k) times.push_back(k * period);
    for (const auto& e : epochs) times.push_back(e.start), times.push_back(e.end);
    std::sort(times.begin(), times.end());
    detail::Timeline tl;
    fake.set_time(times.front());
    m.open(times.front());
    tl.append(times.front(), 0.0);
    *reads = 0;
    for (std::size_t i = 1; i < times.size(); ++i) {
      fake.set_time(times[i]);
      MeterReading r = m.read(times[i]);
      ++*reads;
      if (r.ok) tl.append(times[i], r.joules);
    }
    for (const auto& e : epochs) out.push_back(tl.energy_between(e.start, e.end));
  }
  ::unsetenv("FAKE_NVML_SCENARIO");
  std::remove(scenario.c_str());
  return out;
}

double pct(double v, double ref) { return 100.0 * (v - ref) / ref; }

// epochwatt since issue 13: the caller wakes no one, so the meter is read only at its rounds,
// every `period` from `phase` on; each boundary is interpolated between the rounds around it.
std::vector<double> no_wake_estimate(const Fake& fake, const std::vector<Bound>& epochs, const std::string& trace,
                                     double period, double phase) {
  std::string scenario = write_scenario("nowake", "clock = manual\n[gpu]\nname = NVIDIA H100 80GB HBM3\ntrace = " +
                                                      trace + "\n");
  ::setenv("FAKE_NVML_SCENARIO", scenario.c_str(), 1);
  fake.set_time(0.0);
  std::vector<double> out;
  {
    NvmlDiscovery d = find_nvml(config());
    if (d.meters.size() != 1) {
      std::fprintf(stderr, "fake NVML: %s\n", d.reason.c_str());
      std::exit(1);
    }
    Meter& m = *d.meters[0];
    detail::Timeline tl;
    m.open(0.0);
    tl.append(0.0, 0.0);
    for (double t = phase; t <= epochs.back().end + period; t += period) {
      if (t <= 0) continue;
      fake.set_time(t);
      MeterReading r = m.read(t);
      if (r.ok) tl.append(t, r.joules);
    }
    for (const auto& e : epochs) out.push_back(tl.energy_between(e.start, e.end));
  }
  ::unsetenv("FAKE_NVML_SCENARIO");
  std::remove(scenario.c_str());
  return out;
}

// A powercap tree with two sockets (package + DRAM each) in a temporary folder; RAPL meters on it
// read real files through the same code as on hardware.
std::vector<std::shared_ptr<Meter>> two_socket_rapl(std::string* root) {
  char tmpl[] = "/tmp/epochwatt-bench-rapl-XXXXXX";
  *root = ::mkdtemp(tmpl);
  auto zone = [&](const std::string& z, const std::string& name) {
    std::string dir = *root + "/" + z;
    std::filesystem::create_directories(dir);
    std::ofstream(dir + "/name") << name << "\n";
    std::ofstream(dir + "/energy_uj") << "123456789\n";
    std::ofstream(dir + "/max_energy_range_uj") << "262143328850\n";
  };
  zone("intel-rapl:0", "package-0");
  zone("intel-rapl:0:0", "dram");
  zone("intel-rapl:1", "package-1");
  zone("intel-rapl:1:0", "dram");
  RaplConfig cfg;
  cfg.root = *root;
  return discover_rapl(cfg).meters;
}

void sampler_cost(int gpus, long long delay_us, int rounds, bool with_rapl = false) {
  std::string text = "clock = real\n";
  for (int i = 0; i < gpus; ++i)
    text += "[gpu]\nname = Fake H100\nwatts = 400\nenergy_delay_us = " + std::to_string(delay_us) + "\n";
  std::string scenario = write_scenario("cost", text);
  ::setenv("FAKE_NVML_SCENARIO", scenario.c_str(), 1);
  {
    NvmlDiscovery d = find_nvml(config());
    std::string rapl_root;
    std::size_t gpu_meters = d.meters.size();
    if (with_rapl)
      for (auto& m : two_socket_rapl(&rapl_root)) d.meters.push_back(m);
    for (auto& m : d.meters) m->open(0);
    std::vector<double> us;
    us.reserve(static_cast<std::size_t>(rounds));
    for (int r = 0; r < rounds; ++r) {
      auto t0 = std::chrono::steady_clock::now();
      for (auto& m : d.meters) (void)m->read(r * 0.1);
      us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(us.begin(), us.end());
    double mean = 0;
    for (double v : us) mean += v;
    mean /= static_cast<double>(us.size());
    std::printf("  %zu GPUs%s, counter method, NVML call %6lld us: round median %9.2f us, p99 %9.2f us, mean %9.2f us"
                " (%d rounds; %.3f %% of a 0.1 s period)\n",
                gpu_meters, with_rapl ? " + 2 RAPL sockets (4 zones)" : "", delay_us, us[us.size() / 2],
                us[us.size() * 99 / 100], mean, rounds, us[us.size() / 2] / 1e3);
    if (!rapl_root.empty()) std::filesystem::remove_all(rapl_root);
  }
  ::unsetenv("FAKE_NVML_SCENARIO");
  std::remove(scenario.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  std::string data = EPOCHWATT_TEST_DATA_DIR;
  std::string trace = argc > 2 ? argv[1] : data + "/h100-cnn-training.csv";
  std::string epochs_file = argc > 2 ? argv[2] : data + "/h100-cnn-training.epochs.csv";
  auto rows = read_trace(trace);
  auto epochs = read_epochs(epochs_file);
  if (rows.size() < 2 || epochs.empty()) {
    std::fprintf(stderr, "cannot read %s or %s\n", trace.c_str(), epochs_file.c_str());
    return 1;
  }
  Fake fake(FAKE_NVML_LIBRARY);
  if (!fake.set_time) {
    std::fprintf(stderr, "cannot load the fake NVML %s\n", FAKE_NVML_LIBRARY);
    return 1;
  }

  std::vector<double> ref;
  for (const auto& e : epochs) ref.push_back((counter_at(rows, e.end) - counter_at(rows, e.start)) / 1000.0);
  int counter_reads = 0, power_reads = 0;
  auto counter = epochwatt_estimate(fake, epochs, true, trace, &counter_reads);
  auto power = epochwatt_estimate(fake, epochs, false, trace, &power_reads);
  auto s1 = sampling_estimate(rows, epochs, 1.0, 0.0);
  auto s10 = sampling_estimate(rows, epochs, 10.0, 0.0);

  std::printf("Per-epoch GPU energy on %s, error against the counter reference\n", trace.c_str());
  std::printf("(sampling at phase 0: samples at 0, 1, 2 ... s or 0, 10, 20 ... s of the trace)\n\n");
  std::printf("epoch  dur s  reference J | sampling 1 s     | sampling 10 s    | epochwatt counter | epochwatt int. power\n");
  double tr = 0, tc = 0, tp = 0, t1 = 0, t10 = 0;
  for (std::size_t i = 0; i < epochs.size(); ++i) {
    std::printf("%5zu  %5.2f  %11.1f | %8.1f %+6.2f%% | %8.1f %+6.2f%% | %8.1f %+7.3f%% | %8.1f %+7.3f%%\n", i + 1,
                epochs[i].end - epochs[i].start, ref[i], s1[i], pct(s1[i], ref[i]), s10[i], pct(s10[i], ref[i]),
                counter[i], pct(counter[i], ref[i]), power[i], pct(power[i], ref[i]));
    tr += ref[i], tc += counter[i], tp += power[i], t1 += s1[i], t10 += s10[i];
  }
  std::printf("total         %11.1f | %8.1f %+6.2f%% | %8.1f %+6.2f%% | %8.1f %+7.3f%% | %8.1f %+7.3f%%\n", tr, t1,
              pct(t1, tr), t10, pct(t10, tr), tc, pct(tc, tr), tp, pct(tp, tr));
  std::printf("reads: counter %d (0.1 s + bounds), integrated power %d (0.05 s + bounds)\n\n", counter_reads,
              power_reads);

  std::printf("Sampling error over 20 phases of the sampling grid (per-epoch |error| and total error)\n");
  for (double interval : {1.0, 10.0}) {
    double sum_abs = 0, max_abs = 0, tot_min = 1e9, tot_max = -1e9;
    int n = 0;
    for (int p = 0; p < 20; ++p) {
      auto est = sampling_estimate(rows, epochs, interval, interval * p / 20.0);
      double tot = 0;
      for (std::size_t i = 0; i < epochs.size(); ++i) {
        double e = std::abs(pct(est[i], ref[i]));
        sum_abs += e, max_abs = std::max(max_abs, e), ++n, tot += est[i];
      }
      tot_min = std::min(tot_min, pct(tot, tr));
      tot_max = std::max(tot_max, pct(tot, tr));
    }
    std::printf("  every %4.1f s: per-epoch mean |error| %6.2f %%, worst %6.2f %%; total error %+6.2f %% to %+6.2f %%\n",
                interval, sum_abs / n, max_abs, tot_min, tot_max);
  }

  std::printf("\nBoundaries without an extra reading (issue 13): the counter read every PERIOD only, each bound\n"
              "interpolated between the reads around it; over 20 phases of the reads against the epochs\n");
  for (double period : {0.1, 0.5, 1.0, 2.0, 5.0}) {
    double sum_abs = 0, max_abs = 0, tot_worst = 0;
    int n = 0;
    for (int p = 0; p < 20; ++p) {
      auto est = no_wake_estimate(fake, epochs, trace, period, period * p / 20.0);
      double tot = 0;
      for (std::size_t i = 0; i < epochs.size(); ++i) {
        double e = std::abs(pct(est[i], ref[i]));
        sum_abs += e, max_abs = std::max(max_abs, e), ++n, tot += est[i];
      }
      tot_worst = std::max(tot_worst, std::abs(pct(tot, tr)));
    }
    std::printf("  period %4.1f s: per-epoch mean |error| %6.3f %%, worst %6.3f %%; total |error| at most %6.3f %%\n",
                period, sum_abs / n, max_abs, tot_worst);
  }

  std::printf("\nSampler cost per round (Meter::read of 8 fake NVML GPUs, and of 2 fake RAPL sockets, real clock)\n");
  sampler_cost(8, 0, 20000);
  sampler_cost(8, 0, 20000, true);
  sampler_cost(8, 4000, 25);  // an H100's nvmlDeviceGetTotalEnergyConsumption takes about 4 ms
  return 0;
}
