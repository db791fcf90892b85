// The sampler's CPU time while the job does nothing: a Tracker is made, every boundary flushed,
// then the process sleeps and its CPU time (getrusage, user + system, every thread) is read
// before and after. The caller's thread sleeps, so what the process spends is the sampler's (and
// nothing else: offline, no log files, no intensity worker). A process that only sleeps is the
// baseline, subtracted.
//
//   bench_sampler_cpu [SECONDS [REPEATS]]      defaults: 5 s, 5 repeats; prints median and min
//
// Set-ups (docs/performance.md, "Sampler CPU and the caller's cost (issue 13)" and "Sampler CPU:
// the adaptive period (issue 13)"):
//   defaults        Options as a user leaves them, meters discovered on this machine (on a VM
//                   without RAPL: the /proc estimates of CPU and DRAM). No boundary has come, so
//                   the sampler is quiet (Sampler::kQuietAfterS): the CPU estimate, cumulative
//                   between reads, is read every 5 s (MeterSet::kQuietPeriodS), as after 10 s
//                   without a boundary in a run
//   1 simulated     one simulated meter at the default 1 s period: the wake-up's own cost
//   defaults, 5 s   the same with update_interval = 5 s (--update-interval 5): one round per 5 s
//   8gpu_2sockets   8 fake NVML GPUs (the test suite's libfake_nvml.so, counter method, 0.1 s
//                   period) and 2 RAPL sockets (package + DRAM each) on a sysfs-shaped powercap
//                   tree in a temporary folder, through the real backends; all counters, so
//                   quiet as the defaults (5 s)
//
// It also times one reading of the CPU estimate on this machine's /proc/stat, through the file
// kept open (PreadFile, the meter's path since issue 13) and through the FileReader seam (open,
// fstat, read to the end, close: the path every reading took before), 20,000 readings each.
// This file uses library internals (src/meters/estimate) for that comparison.
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <streambuf>
#include <string>
#include <thread>
#include <vector>

#include "epochwatt/epochwatt.hpp"
#include "meters/estimate/estimate.hpp"

namespace {

class NullBuffer final : public std::streambuf {
 protected:
  int overflow(int c) override { return traits_type::not_eof(c); }
  std::streamsize xsputn(const char*, std::streamsize n) override { return n; }
};

double process_cpu_ms() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  auto ms = [](const timeval& tv) { return static_cast<double>(tv.tv_sec) * 1e3 + static_cast<double>(tv.tv_usec) / 1e3; };
  return ms(u.ru_utime) + ms(u.ru_stime);
}

// CPU milliseconds the process spends while the caller sleeps `seconds` (tracker made before).
template <class Make>
double cpu_while_sleeping(Make make, double seconds) {
  auto tracker = make();
  if (tracker) tracker->flush();  // the start's work done; the sampler waits for its next poll
  double c0 = process_cpu_ms();
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  double c1 = process_cpu_ms();
  if (tracker) tracker->stop();
  return c1 - c0;
}

struct Stats {
  double median, min;
};
Stats stats(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return {v[v.size() / 2], v.front()};
}

epochwatt::Options quiet(std::ostream* console) {
  epochwatt::Options o;
  o.console = console;
  o.verbose = 0;
  o.offline = true;  // no intensity worker, no network
  o.log_dir.reset();
  o.epochs = 1000;
  return o;
}

std::string make_fake_machine(std::string* scenario) {
  char tmpl[] = "/tmp/epochwatt-bench-sampler-XXXXXX";
  std::string root = ::mkdtemp(tmpl);
  auto zone = [&](const std::string& z, const std::string& name) {
    std::string dir = root + "/powercap/" + z;
    std::filesystem::create_directories(dir);
    std::ofstream(dir + "/name") << name << "\n";
    std::ofstream(dir + "/energy_uj") << "123456789\n";
    std::ofstream(dir + "/max_energy_range_uj") << "262143328850\n";
  };
  zone("intel-rapl:0", "package-0");
  zone("intel-rapl:0:0", "dram");
  zone("intel-rapl:1", "package-1");
  zone("intel-rapl:1:0", "dram");
  std::filesystem::create_directories(root + "/drm");  // no hwmon GPU
  std::string text = "clock = real\n";
  for (int i = 0; i < 8; ++i) text += "[gpu]\nname = Fake H100\nwatts = 400\n";
  *scenario = root + "/nvml.txt";
  std::ofstream(*scenario) << text;
  return root;
}

// Forwards to the real reader: an injected FileReader makes the CPU estimate read /proc/stat
// through the seam on every reading, as all readings did before issue 13.
class SeamReader final : public epochwatt::meters::FileReader {
 public:
  epochwatt::meters::ReadResult read(const std::string& path) const override {
    return epochwatt::meters::real_file_reader()->read(path);
  }
  std::vector<std::string> list(const std::string& dir, int* error) const override {
    return epochwatt::meters::real_file_reader()->list(dir, error);
  }
};

// Microseconds of process CPU time per reading of the CPU estimate (median of 5 runs of n).
double cpu_estimate_read_us(bool through_seam, int n) {
  epochwatt::meters::EstimateConfig c;
  if (through_seam) c.reader = std::make_shared<SeamReader>();
  auto d = epochwatt::meters::discover_estimate(c, true, false);
  if (d.meters.empty()) return -1;
  auto& m = *d.meters[0];
  m.open(0.0);
  std::vector<double> per;
  for (int r = 0; r < 5; ++r) {
    double c0 = process_cpu_ms();
    for (int i = 0; i < n; ++i) (void)m.read(1.0 + r * n + i);
    per.push_back((process_cpu_ms() - c0) * 1e3 / n);
  }
  return stats(per).median;
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = argc > 1 ? std::atof(argv[1]) : 5.0;
  int repeats = argc > 2 ? std::atoi(argv[2]) : 5;
  if (!(seconds > 0) || repeats < 1) {
    std::fprintf(stderr, "usage: bench_sampler_cpu [SECONDS [REPEATS]]\n");
    return 2;
  }
  NullBuffer null_buffer;
  std::ostream null(&null_buffer);

  std::string scenario;
  std::string root = make_fake_machine(&scenario);
  ::setenv("FAKE_NVML_SCENARIO", scenario.c_str(), 1);

  auto defaults = [&] { return std::make_unique<epochwatt::Tracker>(quiet(&null)); };
  auto defaults_5s = [&] {
    epochwatt::Options o = quiet(&null);
    o.update_interval = 5.0;
    return std::make_unique<epochwatt::Tracker>(o);
  };
  auto fake_machine = [&] {
    epochwatt::Options o = quiet(&null);
    o.nvml_library = FAKE_NVML_LIBRARY;
    o.powercap_root = root + "/powercap";
    o.drm_root = root + "/drm";
    return std::make_unique<epochwatt::Tracker>(o);
  };
  auto nothing = [] { return std::unique_ptr<epochwatt::Tracker>(); };
  // The floor: one simulated meter at the default 1 s period, whose reading is arithmetic: what
  // remains is the sampler's wake-up once a second and its round's bookkeeping.
  auto wake_only = [&] {
    epochwatt::Options o = quiet(&null);
    o.discover_meters = false;
    o.sim_cpu = "floor";
    o.sim_cpu_tdp = 100.0;
    return std::make_unique<epochwatt::Tracker>(o);
  };

  {
    auto t = defaults();
    std::printf("defaults: meters");
    for (const auto& m : t->meters()) std::printf(" %s", m.id.c_str());
    t->stop();
    auto f = fake_machine();
    std::printf("\n8gpu_2sockets: meters");
    for (const auto& m : f->meters()) std::printf(" %s", m.id.c_str());
    std::printf("\n");
    f->stop();
  }

  std::vector<double> base, w, d, d5, f;
  for (int r = 0; r < repeats; ++r) {  // interleaved, so that a change of load hits all of them
    base.push_back(cpu_while_sleeping(nothing, seconds));
    w.push_back(cpu_while_sleeping(wake_only, seconds));
    d.push_back(cpu_while_sleeping(defaults, seconds));
    d5.push_back(cpu_while_sleeping(defaults_5s, seconds));
    f.push_back(cpu_while_sleeping(fake_machine, seconds));
  }
  Stats b = stats(base), sw = stats(w), sd = stats(d), sd5 = stats(d5), sf = stats(f);
  std::printf("CPU time while the caller sleeps %.1f s, %d repeats (median, min), baseline subtracted:\n", seconds,
              repeats);
  std::printf("  baseline (no tracker)   %8.3f ms  %8.3f ms\n", b.median, b.min);
  std::printf("  1 simulated meter, 1 s  %8.3f ms  %8.3f ms   per 5 s: %.3f ms\n", sw.median - b.median,
              sw.min - b.min, (sw.median - b.median) * 5.0 / seconds);
  std::printf("  defaults                %8.3f ms  %8.3f ms   per 5 s: %.3f ms\n", sd.median - b.median,
              sd.min - b.min, (sd.median - b.median) * 5.0 / seconds);
  std::printf("  defaults, interval 5 s  %8.3f ms  %8.3f ms   per 5 s: %.3f ms\n", sd5.median - b.median,
              sd5.min - b.min, (sd5.median - b.median) * 5.0 / seconds);
  std::printf("  8 GPUs + 2 sockets      %8.3f ms  %8.3f ms   per 5 s: %.3f ms\n", sf.median - b.median,
              sf.min - b.min, (sf.median - b.median) * 5.0 / seconds);
  std::printf("One reading of the CPU estimate on /proc/stat (process CPU time, median of 5 x 20000):\n");
  std::printf("  file kept open, pread of 512 bytes, first line parsed        %7.2f us\n", cpu_estimate_read_us(false, 20000));
  std::printf("  through FileReader: open, fstat, read to the end, close      %7.2f us\n", cpu_estimate_read_us(true, 20000));
  ::unsetenv("FAKE_NVML_SCENARIO");
  std::filesystem::remove_all(root);
  return 0;
}
