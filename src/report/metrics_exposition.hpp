// The live metrics of one tracked process, for a Prometheus scrape of /metrics (the text
// exposition format, version 0.0.4): each device's cumulative joules as a counter, updated at
// every sampler round (not only at epoch ends), its power, the epochs ended, the newest
// prediction, the actual emissions so far and the carbon intensity with its source. Every series
// carries the labels job, rank and node (run.context.job); the device series add component,
// device, method and meter. One series per device and metric: the intensity's source is an
// info-style series of its own (one of a fixed set of ids), so a source that changes does not
// multiply the other series. Metric list: docs/outputs.md, "Live metrics (/metrics)".
//
// No HTTP here: report/metrics_server serves exposition() (this layer's core links none).
#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "epochwatt/reporter.hpp"

namespace epochwatt::detail {

// Content-Type of the text exposition format, version 0.0.4 (Prometheus' exposition formats).
inline constexpr const char* kPrometheusTextContentType = "text/plain; version=0.0.4; charset=utf-8";

// Thread-safe: the tracker's events (its own threads) and exposition() (the server's thread)
// share one mutex, held only to copy numbers in or to write the text out.
class LiveMetricsReporter : public Reporter {
 public:
  // Power is the mean over at least this span of a meter's readings: an extra reading at a
  // boundary shortly after a regular one would otherwise give the power of a sliver of time.
  static constexpr double kPowerSpanS = 1.0;

  void run_started(const Run& run) override;
  void meters_ready(const Run& run) override;
  void sampling_started(const Run& run) override;
  void sampled(const Run& run, const std::vector<LiveReading>& readings) override;
  void epoch_ended(const Run& run) override;
  void run_finished(const Run& run) override;

  // The whole /metrics body as the run stands now. Empty families are left out (no device
  // before meters_ready, no prediction before the first one).
  std::string exposition() const;

 private:
  struct Device {
    std::string labels;  // job, rank, node, component, device, method, meter: rendered once
    double joules = 0.0;
    std::optional<double> watts;
    bool anchored = false;
    double anchor_t = 0.0, anchor_joules = 0.0;  // the reading the power is measured from
  };
  void take_run_figures(const Run& run);  // epochs, prediction, actual, intensity; under mu_

  mutable std::mutex mu_;
  std::string job_labels_;   // job="...",rank="...",node="..."
  std::string info_labels_;  // the run's identity for epochwatt_run_info
  std::vector<Device> devices_;
  int epochs_ended_ = 0;
  double pue_ = 1.0;
  std::optional<double> emissions_g_;
  std::optional<double> predicted_joules_, predicted_grams_, predicted_seconds_;
  std::optional<double> intensity_g_per_kwh_;
  std::string intensity_source_;
  bool finished_ = false;
};

}  // namespace epochwatt::detail
