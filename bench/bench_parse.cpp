// Benchmark of the log reader: parse_log_dirs() + aggregate() over a folder of N log pairs in
// epochwatt's format (2 GPUs and a CPU component, 10 epochs with per-device lines, a prediction
// and an actual block: about 3.8 kB of standard log and 0.8 kB of output log per run).
// Run through bench/run.sh; docs/performance.md ("Parsing logs") holds the figures.
//
//   BM_ParseLogDirs/N   read, check and parse N pairs and sum them (warm page cache)
//
// This file uses library internals (src/report/log_parse.hpp).
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>

#include "report/log_parse.hpp"

namespace {

namespace fs = std::filesystem;

std::string std_log(int run) {
  std::string s = "2025-01-01 00:00:00 - epochwatt version 0.1.0\n"
                  "2025-01-01 00:00:00 - Only predicted and actual consumptions are multiplied by a PUE coefficient of 1.58 "
                  "(Daniel Bizo, 2023, Uptime Institute Global Data Center Survey).\n"
                  "2025-01-01 00:00:00 - The following components were found: GPU with device(s) NVIDIA H100 80GB HBM3, "
                  "NVIDIA H100 80GB HBM3. CPU with device(s) cpu:0, dram:0.\n"
                  "2025-01-01 00:00:00 - Monitoring thread started.\n";
  for (int e = 1; e <= 10; ++e) {
    std::string ts = "2025-01-01 00:" + std::string(e < 10 ? "0" : "") + std::to_string(e) + ":00 - ";
    double gpu = 600.0 + run % 7 + e * 0.25;
    s += ts + "Epoch " + std::to_string(e) + ":\n" + ts + "Duration: 0:01:00.00\n";
    s += ts + "Average power usage (W) for gpu: " + std::to_string(gpu) + "\n";
    s += ts + "Power by device (W) for gpu [counter]: NVIDIA H100 80GB HBM3=" + std::to_string(gpu / 2) +
         "; NVIDIA H100 80GB HBM3=" + std::to_string(gpu / 2) + "\n";
    s += ts + "Average power usage (W) for cpu: 55.5\n";
    s += ts + "Power by device (W) for cpu [counter]: cpu:0=50.0; dram:0=5.5\n";
  }
  s += "2025-01-01 00:10:00 - Carbon intensities (gCO2eq/kWh) fetched every 900 s at detected location: Unknown: [445.0]\n"
       "2025-01-01 00:10:00 - Average carbon intensity during training was 445.00 gCO2eq/kWh. \n"
       "2025-01-01 00:10:00 - Monitoring thread ended.\n";
  return s;
}

std::string output_log(int run) {
  auto block = [](const std::string& title) {
    return "\n" + title + "\n\tTime:\t0:10:00\n\tEnergy:\t0.170000000000 kWh\n\tCO2eq:\t75.650000000000 g"
           "\n\tThis is equivalent to:\n\t0.708333333333 km travelled by car\n";
  };
  (void)run;
  return "2025-01-01 00:00:00 - CarbonTracker: The following components were found: GPU with device(s) NVIDIA H100 "
         "80GB HBM3, NVIDIA H100 80GB HBM3. CPU with device(s) cpu:0, dram:0.\n"
         "2025-01-01 00:01:00 - CarbonTracker: " + block("Predicted consumption for 10 epoch(s):") +
         "2025-01-01 00:10:00 - CarbonTracker: Average carbon intensity during training was 445.00 gCO2eq/kWh. \n"
         "2025-01-01 00:10:00 - CarbonTracker: " + block("Actual consumption for 10 epoch(s):") +
         "2025-01-01 00:10:00 - CarbonTracker: Finished monitoring.\n";
}

// One folder per N, written once and removed at exit.
class Corpus {
 public:
  explicit Corpus(int runs) {
    std::string pattern = (fs::temp_directory_path() / "ewbench-parse-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    dir_ = pattern;
    for (int i = 0; i < runs; ++i) {
      std::string base = dir_ + "/" + std::to_string(10000 + i) + "." + std::to_string(i + 1) + "_2025-01-01T000000Z";
      write(base + "_carbontracker.log", std_log(i));
      write(base + "_carbontracker_output.log", output_log(i));
    }
  }
  ~Corpus() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  const std::string& dir() const { return dir_; }

 private:
  static void write(const std::string& path, const std::string& text) {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) throw std::runtime_error("cannot write " + path);
    std::fwrite(text.data(), 1, text.size(), f);
    std::fclose(f);
  }
  std::string dir_;
};

const Corpus& corpus(int runs) {
  static std::map<int, std::unique_ptr<Corpus>> corpora;
  auto& c = corpora[runs];
  if (!c) c = std::make_unique<Corpus>(runs);
  return *c;
}

void BM_ParseLogDirs(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const Corpus& c = corpus(n);
  std::vector<epochwatt::detail::ParseWarning> warnings;
  for (auto _ : state) {
    warnings.clear();
    auto runs = epochwatt::detail::parse_log_dirs({c.dir()}, &warnings);
    auto total = epochwatt::detail::aggregate(runs);
    benchmark::DoNotOptimize(total);
    if (runs.size() != static_cast<std::size_t>(n) || !warnings.empty()) {
      state.SkipWithError("the corpus did not parse cleanly");
      break;
    }
  }
  state.counters["per_run"] = benchmark::Counter(static_cast<double>(n), benchmark::Counter::kIsIterationInvariantRate |
                                                                            benchmark::Counter::kInvert);
}
BENCHMARK(BM_ParseLogDirs)->Arg(200)->Arg(2000)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
