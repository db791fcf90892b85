// Writes a folder of N carbontracker log pairs for the parse-at-scale benchmark
// (bench/parse_at_scale.sh, docs/performance.md "Parse at scale (issue 13)").
//
//   gen_log_corpus DIR N
//
// Each run is what carbontracker 2.4.3 writes for a 3-epoch job on 2 GPUs and a CPU (the layout of
// tests/data/ct_logs/v2.4/48213.70211_*): a standard log of about 1.26 kB and an output log of
// about 0.74 kB, so 10,000 pairs are about 19 MiB of text, the folder of issue 13's table. The
// powers, the durations and hence the blocks vary with the run's index, so the aggregate is a sum
// of different figures; every tenth run stopped early (an actual block for 2 of 3 epochs).
// The blocks' figures follow carbontracker's arithmetic (W x s / 3.6e6 x PUE 1.58, 445 gCO2eq/kWh).
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <sys/stat.h>

namespace {

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string hms(int seconds) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%d:%02d:%02d", seconds / 3600, seconds / 60 % 60, seconds % 60);
  return buf;
}

std::string stamp(int seconds) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "2025-03-04 %02d:%02d:%02d - ", 10 + seconds / 3600, seconds / 60 % 60, seconds % 60);
  return buf;
}

std::string block(const char* title, int epochs, int seconds, double kwh) {
  double co2 = kwh * 445.0;
  return "\n" + std::string(title) + " " + std::to_string(epochs) + " epoch(s):\n\tTime:\t" + hms(seconds) +
         "\n\tEnergy:\t" + fixed(kwh, 12) + " kWh\n\tCO2eq:\t" + fixed(co2, 12) +
         " g\n\tThis is equivalent to:\n\t" + fixed(co2 / 106.8, 12) + " km travelled by car\n";
}

bool write(const std::string& path, const std::string& text) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return false;
  bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  return std::fclose(f) == 0 && ok;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: gen_log_corpus DIR N\n");
    return 2;
  }
  std::string dir = argv[1];
  long n = std::strtol(argv[2], nullptr, 10);
  if (n <= 0) {
    std::fprintf(stderr, "gen_log_corpus: N must be a positive count\n");
    return 2;
  }
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    std::fprintf(stderr, "gen_log_corpus: cannot create %s: %s\n", dir.c_str(), std::strerror(errno));
    return 1;
  }
  const std::string devices =
      "The following components were found: GPU with device(s) NVIDIA A100-SXM4-40GB, NVIDIA A100-SXM4-40GB. "
      "CPU with device(s) cpu:0, dram:0.\n";
  for (long i = 0; i < n; ++i) {
    const double gpu = 150.0 + static_cast<double>(i % 13) * 1.5, cpu = 25.0 + static_cast<double>(i % 7) * 0.5;
    const int epoch_s = 10 + static_cast<int>(i % 5);
    const bool early = i % 10 == 9;
    const int done = early ? 2 : 3;
    std::string s = stamp(0) + "carbontracker version 2.4.3\n" + stamp(0) +
                    "Only predicted and actual consumptions are multiplied by a PUE coefficient of 1.58 (Daniel Bizo, "
                    "2023, Uptime Institute Global Data Center Survey).\n" +
                    stamp(0) + devices + stamp(0) + "Monitoring thread started.\n";
    for (int e = 1; e <= done; ++e) {
      std::string ts = stamp(e * epoch_s);
      s += ts + "Epoch " + std::to_string(e) + ":\n" + ts + "Duration: " + hms(epoch_s) + ".00\n" + ts +
           "Average power usage (W) for gpu: " + fixed(gpu, 1) + "\n" + ts + "Average power usage (W) for cpu: " +
           fixed(cpu, 1) + "\n";
    }
    std::string end = stamp(done * epoch_s);
    if (early) s += end + "Training was interrupted before all 3 epochs were monitored.\n";
    s += end + "Carbon intensities (gCO2eq/kWh) fetched every 900 s at detected location: Unknown: [445.0]\n" + end +
         "Average carbon intensity during training was 445.00 gCO2eq/kWh. \n" + end + "Monitoring thread ended.\n";

    const double epoch_kwh = (gpu + cpu) * epoch_s / 3.6e6 * 1.58;
    std::string o = stamp(0) + "CarbonTracker: " + devices + stamp(epoch_s) + "CarbonTracker: " +
                    block("Predicted consumption for", 3, 3 * epoch_s, 3 * epoch_kwh) + end +
                    "CarbonTracker: Average carbon intensity during training was 445.00 gCO2eq/kWh. \n" + end +
                    "CarbonTracker: " + block("Actual consumption for", done, done * epoch_s, done * epoch_kwh) + end +
                    "CarbonTracker: Finished monitoring.\n";

    std::string base = dir + "/" + std::to_string(40000 + i) + "." + std::to_string(70000 + i) + "_2025-03-04T101500Z";
    if (!write(base + "_carbontracker.log", s) || !write(base + "_carbontracker_output.log", o)) {
      std::fprintf(stderr, "gen_log_corpus: cannot write %s: %s\n", base.c_str(), std::strerror(errno));
      return 1;
    }
  }
  return 0;
}
