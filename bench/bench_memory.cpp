// Memory per epoch and the cost of stop() (issue 13). Not a Google Benchmark: it measures the
// process's resident memory, so each size runs in a process of its own (bench/run.sh runs 10,
// 10,000 and 100,000 epochs).
//
//   bench_memory EPOCHS [LOG_DIR]
//
// A tracker with 8 meters (4 "GPUs", 2 "CPUs", 2 "DRAM" of constant power, read at no cost) runs
// EPOCHS epochs back to back on the real clock, with the carbontracker logs and the JSON summary
// in LOG_DIR when given (console off), planned for EPOCHS + 1 so that stop() writes the final
// reports. Prints one line:
//   epochs, meters, rss_growth_mb (VmRSS after the epochs minus before, after one warm-up epoch),
//   bytes_per_epoch (of the RSS growth), heap_growth_mb (malloc's bytes in use, after minus before),
//   stop_peak_mb (VmHWM during stop() minus VmRSS before it: what stop() adds),
//   stop_s (wall time of stop()), summary_mb (the JSON summary's size).
#include <malloc.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <ostream>
#include <streambuf>
#include <string>

#include "epochwatt/epochwatt.hpp"

namespace {

class NullBuffer final : public std::streambuf {
 protected:
  int overflow(int c) override { return traits_type::not_eof(c); }
  std::streamsize xsputn(const char*, std::streamsize n) override { return n; }
};

// watts x (t - t_open): a counter that costs nothing to read.
class ConstantMeter final : public epochwatt::Meter {
 public:
  ConstantMeter(std::string id, epochwatt::Component c, std::string device, double watts) : watts_(watts) {
    info_.id = std::move(id);
    info_.component = c;
    info_.device_name = std::move(device);
    info_.method = epochwatt::Method::counter;
  }
  const epochwatt::MeterInfo& info() const override { return info_; }
  void open(double t) override { t0_ = t; }
  epochwatt::MeterReading read(double t) override { return {watts_ * (t - t0_), true, false, {}}; }

 private:
  epochwatt::MeterInfo info_;
  double watts_;
  double t0_ = 0.0;
};

// kB from /proc/self/status ("VmRSS", "VmHWM"); -1 when unreadable.
long status_kb(const char* key) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(key, 0) == 0 && line.size() > std::string(key).size() && line[std::string(key).size()] == ':')
      return std::stol(line.substr(std::string(key).size() + 1));
  return -1;
}

// Resets VmHWM to the current VmRSS (Linux 4.0+, /proc/PID/clear_refs "5"); false when refused.
bool reset_peak() {
  std::ofstream out("/proc/self/clear_refs");
  out << "5";
  out.flush();
  return static_cast<bool>(out);
}

// Bytes malloc has handed out and not had back (glibc mallinfo2, every arena): what the process
// holds, without the fragmentation and the freed pages RSS still counts.
double heap_in_use_mb() {
  struct mallinfo2 m = mallinfo2();
  return static_cast<double>(m.uordblks + m.hblkhd) / (1024.0 * 1024.0);
}

constexpr long kCatchUpEvery = 1000;

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s EPOCHS [LOG_DIR]\n", argv[0]);
    return 2;
  }
  const long epochs = std::stol(argv[1]);
  const char* log_dir = argc > 2 ? argv[2] : nullptr;
  NullBuffer null_buffer;
  std::ostream null(&null_buffer);

  epochwatt::Options o;
  // One epoch more than are run: the final reports (logs' actual block, JSON summary) are written
  // inside stop(), whose cost is measured, and not at the last epoch's end.
  o.epochs = static_cast<int>(epochs + 1);
  o.country = "DK";
  o.offline = true;
  o.live_providers = {"none"};
  o.console = &null;
  o.verbose = 0;
  o.discover_meters = false;
  if (log_dir) o.log_dir = log_dir;
  for (int i = 0; i < 4; ++i)
    o.meters.push_back(std::make_shared<ConstantMeter>("bench:gpu" + std::to_string(i), epochwatt::Component::gpu,
                                                       "Bench GPU " + std::to_string(i), 300.0));
  for (int i = 0; i < 2; ++i) {
    o.meters.push_back(std::make_shared<ConstantMeter>("bench:cpu" + std::to_string(i), epochwatt::Component::cpu,
                                                       "cpu:" + std::to_string(i), 100.0));
    o.meters.push_back(std::make_shared<ConstantMeter>("bench:dram" + std::to_string(i), epochwatt::Component::dram,
                                                       "dram:" + std::to_string(i), 10.0));
  }
  const std::size_t meters = o.meters.size();

  epochwatt::Tracker t(o);
  t.epoch_start();  // warm-up: the first epoch's one-time allocations (prediction, log lines)
  t.epoch_end();
  t.flush();
  const long rss0 = status_kb("VmRSS");
  const double heap0 = heap_in_use_mb();
  for (long i = 1; i < epochs; ++i) {
    t.epoch_start();
    t.epoch_end();
    // The sampler handles each epoch in ~10 µs, the loop makes one in ~1 µs: without a pause it
    // would hold up to the whole run's boundaries in its queue at once (a backlog no real training
    // loop makes, and the sampler's, not the run's memory). Every 1000 epochs it catches up.
    if (i % kCatchUpEvery == 0) t.flush();
  }
  t.flush();
  const long rss1 = status_kb("VmRSS");
  const double heap1 = heap_in_use_mb();
  const bool peak_reset = reset_peak();
  const long hwm_before = status_kb("VmHWM");
  auto s0 = std::chrono::steady_clock::now();
  t.stop();
  double stop_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - s0).count();
  const long hwm = status_kb("VmHWM");
  double summary_mb = 0.0;
  std::error_code ec;
  if (!t.json_summary_path().empty()) summary_mb = static_cast<double>(std::filesystem::file_size(t.json_summary_path(), ec)) / 1e6;
  std::printf("epochs=%ld meters=%zu rss_growth_mb=%.2f bytes_per_epoch=%.0f heap_growth_mb=%.2f stop_peak_mb=%.2f%s "
              "stop_s=%.3f summary_mb=%.2f log_files=%s\n",
              epochs, meters, (rss1 - rss0) / 1024.0, epochs > 1 ? (rss1 - rss0) * 1024.0 / (epochs - 1) : 0.0,
              heap1 - heap0,
              (hwm - std::max(rss1, peak_reset ? hwm_before : rss1)) / 1024.0, peak_reset ? "" : "(peak not reset)",
              stop_s, summary_mb, log_dir ? "yes" : "no");
  return 0;
}
