// Reporters: where a run's events go. The tracker fans every event out to the reporters it was
// given, in order; epochwatt's own outputs (carbontracker's console and log files, the JSON
// summary, JSON Lines, the CodeCarbon CSV, the Prometheus textfile) are reporters, and a caller
// can add its own (TrackerParts::reporters, or Tracker(Options, extra reporters)).
//
// Threads: run_started, meters_ready and sampling_started come from the thread that builds the
// tracker; message may also come from the caller's thread (usage errors, the stop_and_confirm
// dialogue), and flush from the thread that calls stop(); every other event comes from the
// tracker's sampler thread, one at a time. A message from the caller's thread may arrive while the
// sampler is inside another event: make message() thread-safe. A reporter must not call the
// tracker back (flush(), stop(), window_end() would wait for the very thread that runs it), must
// not block for long (the sampler waits for it), and should not throw: what escapes is reported
// once on the err channel and the other reporters still get the event. Raise warn() only from the
// events of the sampler thread: it adds to the Run that the reporters are reading.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "epochwatt/job_report.hpp"
#include "epochwatt/run.hpp"

namespace epochwatt {

enum class Severity { debug, info, warning, critical };

// A line of text for people. Channels are carbontracker's: output (console and output log),
// standard (standard log only), err (console and err log, with a severity), console (the console
// only, outside the logs).
struct Message {
  enum class Channel { output, standard, err, console };
  Channel channel = Channel::standard;
  Severity severity = Severity::info;  // err channel only
  std::string text;
  const char* thread = "MainThread";   // the thread name carbontracker's err log shows
};

// One meter's newest reading after a sampler round (Reporter::sampled).
struct LiveReading {
  double t = 0.0;       // seconds since the meters opened, on the tracker's clock; 0: not read yet
  double joules = 0.0;  // IT energy since the meter opened, in joules, without PUE; never decreases
  bool lost = false;    // the meter is gone: joules stays at its last reading
};

class Reporter {
 public:
  virtual ~Reporter() = default;
  // The tracker has its context (tool, version, options); meters not yet chosen.
  virtual void run_started(const Run& run) { (void)run; }
  // The meters are chosen (run.context.meters is not empty).
  virtual void meters_ready(const Run& run) { (void)run; }
  // Measuring has begun: the first intensity value holds (run.intensity, run.location).
  virtual void sampling_started(const Run& run) { (void)run; }
  virtual void message(const Message& m) { (void)m; }
  // An epoch ended: run.epochs.back() is it; run.actual holds the totals so far (complete false).
  virtual void epoch_ended(const Run& run) { (void)run; }
  // The prediction was made (run.prediction): carbontracker's Predicted block, once. Every epoch_ended
  // also carries the newest prediction (run.latest_prediction).
  virtual void predicted(const Run& run) { (void)run; }
  // Options::prediction_updates: the newest prediction (run.latest_prediction) left the range of
  // the last one printed.
  virtual void prediction_moved(const Run& run) { (void)run; }
  // After every sampler round (about every update_interval, and at boundaries): the newest
  // reading of each meter, in run.context.meters' order, for live outputs (the metrics endpoint)
  // that show energy between epoch ends. Sampler thread; keep it short: it delays the next round.
  virtual void sampled(const Run& run, const std::vector<LiveReading>& readings) {
    (void)run;
    (void)readings;
  }
  // The run is over (run.complete, run.actual, run.power_series). Called once.
  virtual void run_finished(const Run& run) { (void)run; }
  // Rank 0 of a job-wide reduction (Tracker::report_job): the whole job's Predicted or Actual
  // block. Comes from the caller's thread (the training loop's, where the reduction runs), like
  // message(): make it thread-safe. The context is the one of run_started (fixed once started).
  virtual void job_reported(const RunContext& context, const JobFootprint& job) { (void)context, (void)job; }
  virtual void flush() {}

  // The tracker installs a sink for warnings a reporter raises (an output it cannot write): they
  // reach every reporter's err channel and the run's warnings.
  using WarningSink = std::function<void(const std::string& text)>;
  void set_warning_sink(WarningSink sink) { warn_ = std::move(sink); }

 protected:
  void warn(const std::string& text) const {
    if (warn_) warn_(text);
  }

 private:
  WarningSink warn_;
};

}  // namespace epochwatt
