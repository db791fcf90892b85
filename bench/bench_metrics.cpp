// The /metrics endpoint's costs (docs/performance.md, "/metrics endpoint (issue 14)"): what the
// sampler pays per round for the live readings (LiveMetricsReporter::sampled), what rendering the
// exposition text costs, and a whole scrape over HTTP on 127.0.0.1 (connect, request, text,
// close), with 10 devices (8 GPUs, a CPU and its DRAM).
#include <benchmark/benchmark.h>
#include <httplib.h>

#include "epochwatt/run.hpp"
#include "report/metrics_server.hpp"

namespace {

using namespace epochwatt;

MeterInfo meter(std::string id, Component c, std::string device) {
  MeterInfo m;
  m.id = std::move(id);
  m.component = c;
  m.device_name = std::move(device);
  m.method = Method::counter;
  return m;
}

Run ten_device_run() {
  Run r;
  r.context.run_id = "00000000-0000-4000-8000-000000000000";
  r.context.job.job_id = "bench-job";
  r.context.job.node = "node-0";
  for (int i = 0; i < 8; ++i)
    r.context.meters.push_back(meter("nvml:" + std::to_string(i), Component::gpu, "gpu:" + std::to_string(i)));
  r.context.meters.push_back(meter("rapl:0", Component::cpu, "cpu:0"));
  r.context.meters.push_back(meter("rapl:0:dram", Component::dram, "dram:0"));
  r.intensity.g_per_kwh = 250.0;
  r.intensity.source = "embedded-table";
  return r;
}

template <class R>
void prepare(R& m, const Run& run) {
  m.run_started(run);
  m.meters_ready(run);
  m.sampling_started(run);
}

void BM_MetricsSampledRound(benchmark::State& state) {
  Run run = ten_device_run();
  detail::LiveMetricsReporter m;
  prepare(m, run);
  std::vector<LiveReading> readings(run.context.meters.size());
  double t = 0;
  for (auto _ : state) {
    t += 1.0;
    for (std::size_t i = 0; i < readings.size(); ++i) readings[i] = {t, t * 100.0 * static_cast<double>(i + 1), false};
    m.sampled(run, readings);
  }
}
BENCHMARK(BM_MetricsSampledRound);

void BM_MetricsExposition(benchmark::State& state) {
  Run run = ten_device_run();
  detail::LiveMetricsReporter m;
  prepare(m, run);
  std::vector<LiveReading> readings(run.context.meters.size());
  for (double t : {1.0, 2.5})
    for (std::size_t i = 0; i < readings.size(); ++i) readings[i] = {t, t * 123.456 * static_cast<double>(i + 1), false};
  m.sampled(run, readings);
  std::size_t bytes = 0;
  for (auto _ : state) {
    std::string text = m.exposition();
    bytes = text.size();
    benchmark::DoNotOptimize(text);
  }
  state.counters["bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_MetricsExposition);

void BM_MetricsScrapeOverHttp(benchmark::State& state) {
  Run run = ten_device_run();
  auto m = std::make_shared<detail::LiveMetricsReporter>();
  prepare(*m, run);
  detail::MetricsServer server({"127.0.0.1", 0}, [m] { return m->exposition(); });
  for (auto _ : state) {
    httplib::Client c("127.0.0.1", server.port());
    auto res = c.Get("/metrics");
    if (!res || res->status != 200) state.SkipWithError("scrape failed");
  }
}
BENCHMARK(BM_MetricsScrapeOverHttp)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
