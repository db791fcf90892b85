// The Tracker wires events to the parts of the core: the caller's thread stamps boundaries; the
// sampler (core/sampler) reads the meters (core/meter_set); accounting (core/accounting) and
// prediction (core/prediction) turn readings into figures; every result goes to the reporters the
// tracker was given. It names no backend, no intensity provider and no output format.
#include "epochwatt/tracker.hpp"

#include <pthread.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cmath>
#include <map>
#include <mutex>

#include "core/accounting.hpp"
#include "core/closing_meter.hpp"
#include "core/format.hpp"
#include "core/meter_set.hpp"
#include "core/run_id.hpp"
#include "core/sampler.hpp"
#include "epochwatt/errors.hpp"
#include "epochwatt/version.hpp"

namespace epochwatt {

namespace {

// Set while this thread reports a reporter's error (fan-outs run on the caller's thread and on
// the sampler's), so that a failure of that report is not reported in turn.
thread_local bool reporting_error = false;

constexpr const char* kSamplerThread = "CarbonTrackerThread";  // carbontracker's thread name
// Seconds of readings kept whole behind the newest (MeterSet::thin): boundaries are resolved
// within a round of being stamped, so no query falls this far back but at a kept point.
constexpr double kKeepEveryReadingS = 3600.0;

std::shared_ptr<Clock> the_system_clock() {
  struct SystemClock final : Clock {
    [[gnu::hot]] double now() const override {
      return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
    }
    std::chrono::system_clock::time_point wall() const override { return std::chrono::system_clock::now(); }
  };
  static std::shared_ptr<Clock> clock = std::make_shared<SystemClock>();
  return clock;
}

class FixedIntensitySource final : public IntensitySource {
 public:
  FixedIntensitySource(IntensityValue v, Location where) : value_(std::move(v)), where_(std::move(where)) {}
  Location location() const override { return where_; }
  IntensityValue initial() override { return value_; }

 private:
  IntensityValue value_;
  Location where_;
};

// Forks seen by this process's children (a pthread_atfork child handler counts them).
std::atomic<unsigned> forks_seen{0};

// getpid() without its system call on every epoch_start()/epoch_end() (glibc does not cache it;
// about 1 us each on a VM): each thread keeps the pid it read, and reads it again after a fork.
// Without the handler (registration failed), every call asks the kernel.
[[gnu::hot]] pid_t this_process_id() {
  static const bool hooked = ::pthread_atfork(nullptr, nullptr, [] { forks_seen.fetch_add(1); }) == 0;
  thread_local unsigned seen = ~0u;
  thread_local pid_t pid = 0;
  unsigned forks = forks_seen.load(std::memory_order_relaxed);
  if (!hooked || forks != seen) {
    pid = ::getpid();
    seen = forks;
  }
  return pid;
}

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "";
  return buf;
}

}  // namespace

std::shared_ptr<Clock> system_clock() { return the_system_clock(); }

std::shared_ptr<IntensitySource> fixed_intensity_source(IntensityValue value, Location where) {
  return std::make_shared<FixedIntensitySource>(std::move(value), std::move(where));
}

// The state of one tracked run: what the caller's thread sees (under the sampler's mutex) and
// what only the sampler thread touches.
struct Tracker::Impl {
  using WindowId = Tracker::WindowId;
  struct OpenWindow {  // under the mutex
    std::string name;
    double t0;
    bool ending = false;  // its end is queued (by window_end() or stop()): nobody queues it again
    bool cut = false;     // stop() ended it
  };

  Options opt;
  // The process that built the tracker. After fork() the child has no sampler thread and may
  // inherit locked mutexes: there every call returns at once and the destructor leaks the Impl.
  const pid_t owner_pid = ::getpid();
  bool foreign() const { return this_process_id() != owner_pid; }
  std::shared_ptr<Clock> clock;
  int pred_after = 0;     // resolved epochs_before_pred; 0 = never
  int monitor_after = 0;  // resolved monitor_epochs
  // --- under the mutex; here, beside the fields above, so that epoch_start()/epoch_end() touch
  // one cache line of the Impl (after a gap each line and page touched is a miss, docs/performance.md)
  int started_epochs = 0, ended_epochs = 0;
  bool in_epoch = false;
  bool shut_down = false;  // caller-visible: no further epoch accounting
  bool inert = false;     // no meter: every call is a no-op (ignore_errors)
  TrackerParts parts;
  std::shared_ptr<IntensitySource> intensity;
  detail::MeterSet meters;
  double started_mono = 0.0;  // clock->now() when the meters opened: t = 0 of power_series

  // --- sampler thread only (and the constructor before it starts) ---
  detail::IntensityLedger ledger;
  std::map<WindowId, double> window_starts;  // open windows as the sampler saw them: id -> start
  double next_intensity_refresh = 0.0;
  double open_epoch_start = 0.0;
  bool epoch_open = false;  // the sampler's view: a start handled, its end not yet
  bool setup_open = true;   // no epoch has started yet: the time so far is set-up
  double setup_s = 0.0, setup_joules = 0.0;  // the set-up, once closed (counted in the actual)
  // The range of the last prediction printed (prediction_updates): a later one outside it is said.
  std::optional<PredictionDetail> printed;
  bool reported_actual = false;
  std::vector<LiveReading> live;  // each meter's newest reading (Reporter::sampled), reused
  // The ended epochs' count, time and IT energy, summed as they end (in epoch order, as
  // footprint_of_epochs sums them): a snapshot costs the same at epoch 10 and at epoch 100,000.
  int counted_epochs = 0;
  double counted_s = 0.0, counted_joules = 0.0;

  // --- written by the sampler thread under the mutex, read by reporters on that thread without
  // it, and by the accessors under it ---
  Run run;

  // --- under the mutex (and started_epochs ... shut_down above) ---
  bool stopped = false;    // stop() has run
  WindowId next_window = 0;
  std::map<WindowId, OpenWindow> open_windows;
  std::map<WindowId, WindowMeasurement> window_results;  // measured, not yet collected
  long intensity_applied = 0;  // rounds of the intensity source applied by the sampler
  std::mutex no_sampler_mu;    // the mutex of an inert tracker, which has no sampler
  // Last, so that it is destroyed first: its thread uses every member above.
  std::unique_ptr<detail::Sampler> sampler;

  Impl(Options o, TrackerParts p);
  // Ends the sampler thread before anything it uses goes, and unhooks the reporters, which the
  // caller may keep, from this tracker.
  ~Impl() {
    sampler.reset();
    for (auto& r : parts.reporters)
      if (r) r->set_warning_sink(nullptr);
  }
  std::mutex& mu() const { return sampler ? sampler->mutex() : const_cast<std::mutex&>(no_sampler_mu); }

  // Fan-out to the reporters; one that throws is reported and skipped.
  template <class F>
  void fan(const char* event, F&& f);
  void report_reporter_error(const char* event, const char* what) noexcept;
  void say(Message::Channel ch, const std::string& text, const char* thread = "MainThread");
  void err(Severity s, const std::string& text, const char* thread = "MainThread");
  void warn(const std::string& msg, const char* thread);
  void usage_error(const std::string& msg);
  bool confirm(Tracker& self);

  void start();
  // ignore_errors: what start() threw (a thread not made, a meter that failed to open) is logged,
  // and the tracker becomes inert, as without meters.
  void give_up(const std::string& what) noexcept;
  void wait_for_sampler(bool and_intensity);  // flush() and flush_measurements()
  double on_round(double t, const std::deque<detail::Boundary>& batch, bool intensity_posted);
  void report_readings();
  void handle(const detail::Boundary& e);
  void end_epoch(const detail::Boundary& e);
  void stop_run(const detail::Boundary& e);
  void apply_intensity(double t, const IntensityValue& v);
  void take_intensity_notes();
  WindowMeasurement measure_window(double t0, double t1) const;
  void post_window(WindowId id, WindowMeasurement w);
  Prediction make_prediction(std::string* forecast_note);
  void close_setup(double t);
  void refresh_snapshot(bool complete);
  void report_actual(bool early_stop);

};

Tracker::Impl::Impl(Options o, TrackerParts p) : opt(std::move(o)), parts(std::move(p)) {
  validate(opt);
  clock = opt.clock ? opt.clock : system_clock();
  pred_after = opt.epochs_before_pred == -1 ? opt.epochs : opt.epochs_before_pred;
  monitor_after = opt.monitor_epochs == -1 ? opt.epochs : opt.monitor_epochs;
  intensity = parts.intensity;
  if (!intensity) {
    IntensityValue v;
    if (opt.intensity_g_per_kwh) {
      v = {*opt.intensity_g_per_kwh, "fixed", "fixed value from the options", false, false, {}};
    } else {
      v = {kWorldAverageGPerKwh, "world-average",
           "world average " + std::to_string(kWorldAverageYear) + " (IEA, Electricity 2025)", false, false, {}};
    }
    intensity = fixed_intensity_source(v);
  }
  RunContext& c = run.context;
  c.tool_name = opt.tool_name;
  c.version = kVersion;
  c.run_id = detail::make_run_id();
  c.host = host_name();
  c.job = detect_job(opt);
  utsname u{};
  if (::uname(&u) == 0) c.os = std::string(u.sysname) + " " + u.release;
  c.pid = static_cast<long>(::getpid());
  c.started = clock->wall();
  c.components = parse_components(opt.components);
  c.pue = opt.pue;
  c.epochs_planned = opt.epochs;
  c.epochs_before_pred = pred_after;
  c.monitor_epochs = monitor_after;
  c.prediction_skips_first_epoch = opt.prediction_skips_first_epoch;
  c.prediction_rule = opt.prediction_rule;
  c.first_epoch_includes_setup = opt.first_epoch_includes_setup;
  c.intensity_refresh_s = opt.intensity_refresh_s;
  c.decimal_precision = opt.decimal_precision;
  c.interpretable = opt.interpretable;
  c.job_reduction = opt.job_reduction;
  run.complete = false;
  run.log_std = parts.files.standard_log;
  run.log_output = parts.files.output_log;
  run.log_error = parts.files.error_log;
  for (auto& r : parts.reporters)
    if (r) r->set_warning_sink([this](const std::string& m) { warn(m, kSamplerThread); });
}

template <class F>
void Tracker::Impl::fan(const char* event, F&& f) {
  for (auto& r : parts.reporters) {
    if (!r) continue;
    try {
      f(*r);
    } catch (const std::exception& e) {
      report_reporter_error(event, e.what());
    } catch (...) {
      report_reporter_error(event, "unknown exception");
    }
  }
}

void Tracker::Impl::report_reporter_error(const char* event, const char* what) noexcept {
  if (reporting_error) return;  // an error while reporting one: not reported in turn
  reporting_error = true;
  try {
    err(Severity::critical, std::string("Internal error in a reporter (") + event + "): " + what, kSamplerThread);
  } catch (...) {
    // Nothing more can be said.
  }
  reporting_error = false;
}

void Tracker::Impl::say(Message::Channel ch, const std::string& text, const char* thread) {
  Message m{ch, Severity::info, text, thread};
  fan("message", [&](Reporter& r) { r.message(m); });
}

void Tracker::Impl::err(Severity s, const std::string& text, const char* thread) {
  Message m{Message::Channel::err, s, text, thread};
  fan("message", [&](Reporter& r) { r.message(m); });
}

void Tracker::Impl::warn(const std::string& msg, const char* thread) {
  err(Severity::warning, msg, thread);
  std::lock_guard lk(mu());
  run.warnings.push_back(msg);
}

void Tracker::Impl::usage_error(const std::string& msg) {
  if (!opt.ignore_errors) throw UsageError(msg);
  err(Severity::warning, "Ignored error: " + msg);
}

// stop_and_confirm: carbontracker's dialogue after the prediction. Runs on the caller's thread,
// which must wait for the prediction to be printed before asking.
bool Tracker::Impl::confirm(Tracker& self) {
  self.flush();
  say(Message::Channel::output, "Continue training (y/n)?");
  for (;;) {
    std::optional<std::string> line = parts.read_answer ? parts.read_answer() : std::nullopt;
    if (!line) {
      err(Severity::warning, "No answer to 'Continue training (y/n)?' (end of input); training continues.");
      return true;
    }
    std::string answer = *line;
    while (!answer.empty() && std::isspace(static_cast<unsigned char>(answer.back()))) answer.pop_back();
    for (char& ch : answer) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if (answer == "y") {
      say(Message::Channel::output, "Continuing...");
      return true;
    }
    if (answer == "n") {
      say(Message::Channel::standard, "Session ended by user.");
      say(Message::Channel::output, "Quitting...");
      self.stop();
      return false;
    }
    say(Message::Channel::output, "Input not recognized. Try again (y/n):");
  }
}

// ---------------------------------------------------------------- sampler thread

void Tracker::Impl::take_intensity_notes() {
  for (auto& note : intensity->take_notes()) {
    if (note.warning)
      warn(note.text, kSamplerThread);
    else
      err(Severity::info, note.text, kSamplerThread);
  }
}

void Tracker::Impl::apply_intensity(double t, const IntensityValue& v) {
  take_intensity_notes();
  if (v.live)
    say(Message::Channel::standard, "Carbon intensity fetched: " + detail::fixed(v.g_per_kwh, 2) +
                                        " gCO2/kWh at " + intensity->location().address());
  bool open;
  {
    std::lock_guard lk(mu());
    open = in_epoch;
  }
  ledger.apply(t, v, open);
}

// Each meter's newest reading, before the round's boundaries are handled, so that the run's last
// readings reach live outputs (the metrics endpoint) before run_finished.
void Tracker::Impl::report_readings() {
  const auto& slots = meters.slots();
  live.resize(slots.size());
  for (std::size_t i = 0; i < slots.size(); ++i)
    if (!slots[i].timeline.empty())
      live[i] = {slots[i].timeline.back().t - started_mono, slots[i].timeline.back().joules, slots[i].lost};
  fan("sampled", [&](Reporter& r) { r.sampled(run, live); });
}

double Tracker::Impl::on_round(double t, const std::deque<detail::Boundary>& batch, bool intensity_posted) {
  report_readings();
  // Each boundary on its own, so that one that fails cannot take the others (a window's end that
  // someone waits for) with it.
  for (const auto& e : batch) {
    try {
      handle(e);
    } catch (const std::exception& ex) {
      err(Severity::critical, std::string("Internal error in the sampler: ") + ex.what(), kSamplerThread);
      if (e.kind == detail::Boundary::Kind::window_end) post_window(e.window, WindowMeasurement{});
    } catch (...) {
      err(Severity::critical, "Internal error in the sampler: unknown exception", kSamplerThread);
      if (e.kind == detail::Boundary::Kind::window_end) post_window(e.window, WindowMeasurement{});
    }
  }
  // The intensity source after the boundaries: they were all stamped before this round, so the
  // epochs they close are counted at the values that held then, and a value posted now is
  // applied after them (applied first, it could replace a value no handled epoch had used yet,
  // and an epoch that ended before it came would be counted at it). On its own: whatever it
  // throws, the boundaries were handled.
  try {
    if (intensity_posted) {
      if (auto posted = intensity->poll()) {
        meters.read(t, true, [this](const std::string& m) { warn(m, kSamplerThread); });  // a point where it changes
        apply_intensity(t, posted->value);
        std::lock_guard lk(mu());
        intensity_applied = std::max(intensity_applied, posted->round);
      }
    }
    if (t >= next_intensity_refresh) {
      next_intensity_refresh = t + opt.intensity_refresh_s;
      intensity->request_refresh();  // answered in the background; applied when it posts
    }
  } catch (const std::exception& e) {
    err(Severity::critical, std::string("Internal error in the intensity source: ") + e.what(), kSamplerThread);
  } catch (...) {
    err(Severity::critical, "Internal error in the intensity source: unknown exception", kSamplerThread);
  }
  // Points before the open epoch's start, or between epochs before this round (the last point
  // before it stays, so a start stamped just before the round is still bracketed), and before
  // the oldest open window are no longer needed.
  double keep_from = epoch_open ? std::min(open_epoch_start, t) : setup_open ? started_mono : t;
  for (const auto& [id, t0] : window_starts) keep_from = std::min(keep_from, t0);
  // An epoch (or set-up, or window) open for long keeps its readings back to its start: beyond
  // the last hour they are thinned, exact at every start still open and where the intensity
  // changed, so that a week-long epoch holds as much as a few hours' (issue 13).
  if (meters.needs_thinning()) {
    std::vector<double> exact = ledger.change_times();
    if (epoch_open) exact.push_back(open_epoch_start);
    for (const auto& [id, t0] : window_starts) exact.push_back(t0);
    std::sort(exact.begin(), exact.end());
    meters.thin(keep_from, t - kKeepEveryReadingS, exact);
  }
  return keep_from;
}

// The result of a window's end, for window_end() to collect; posted exactly once per window.
void Tracker::Impl::post_window(WindowId id, WindowMeasurement w) {
  std::lock_guard lk(mu());
  auto open = open_windows.find(id);
  if (open == open_windows.end()) return;
  w.name = open->second.name;
  w.cut_by_stop = open->second.cut;
  open_windows.erase(open);
  window_results[id] = std::move(w);
}

WindowMeasurement Tracker::Impl::measure_window(double t0, double t1) const {
  WindowMeasurement w;
  w.duration_s = t1 - t0;
  w.devices = meters.energy_between(t0, t1, &w.joules);
  w.energy_kwh = w.joules * opt.pue / kJoulesPerKwh;
  w.co2_g = ledger.grams_between(meters, opt.pue, t0, t1, nullptr);
  w.intensity_g_per_kwh = w.energy_kwh > 0 ? w.co2_g / w.energy_kwh
                          : ledger.empty()  ? kWorldAverageGPerKwh
                                            : ledger.current().g_per_kwh;
  return w;
}

void Tracker::Impl::handle(const detail::Boundary& e) {
  using Kind = detail::Boundary::Kind;
  switch (e.kind) {
    case Kind::epoch_start:
      if (setup_open) close_setup(e.t);
      open_epoch_start = e.t;
      epoch_open = true;
      ledger.mark_used();
      break;
    case Kind::epoch_end:
      epoch_open = false;
      end_epoch(e);
      break;
    case Kind::window_start:
      window_starts[e.window] = e.t;
      break;
    case Kind::window_end: {
      WindowMeasurement w;
      auto it = window_starts.find(e.window);
      if (it != window_starts.end()) {
        double t0 = it->second;
        window_starts.erase(it);
        w = measure_window(t0, e.t);
      }
      post_window(e.window, std::move(w));
      break;
    }
    case Kind::stop:
      stop_run(e);
      break;
  }
}

void Tracker::Impl::stop_run(const detail::Boundary& e) {
  bool open;
  int open_index;
  {
    std::lock_guard lk(mu());
    open = in_epoch;
    open_index = started_epochs;
  }
  if (reported_actual) return;
  if (setup_open) close_setup(e.t);  // no epoch started: the whole run was set-up
  if (open) {
    // The open epoch is not counted; its partial figures are kept, marked interrupted.
    EpochSummary part;
    part.index = open_index;
    part.interrupted = true;
    part.duration_s = e.t - open_epoch_start;
    part.devices = meters.energy_between(open_epoch_start, e.t, &part.joules);
    say(Message::Channel::standard, "Interrupted epoch " + std::to_string(part.index) + " (not counted): ran " +
                                        detail::log_duration(part.duration_s) + " and drew " +
                                        detail::shortest_fixed(part.joules) + " J.");
    std::lock_guard lk(mu());
    run.epochs.push_back(std::move(part));
  }
  say(Message::Channel::standard,
      "Training was interrupted before all " + std::to_string(monitor_after) + " epochs were monitored.");
  report_actual(true);
}

// The snapshot the reporters and totals() see: the footprint of the epochs ended so far.
void Tracker::Impl::refresh_snapshot(bool complete) {
  // Everything computed before the lock, which the caller's epoch_start()/epoch_end() take too.
  IntensityValue now = ledger.current();
  Consumption c = footprint(counted_epochs, setup_s + counted_s, setup_joules + counted_joules, opt.pue,
                            ledger.run_intensity(), now.source);
  auto finished = clock->wall();
  Location where = intensity->location();
  std::vector<double> values = ledger.values();
  std::lock_guard lk(mu());
  run.complete = complete;
  run.finished = finished;
  run.location = std::move(where);
  run.intensity = std::move(now);
  run.intensity_values = std::move(values);
  run.actual = std::move(c);
}

void Tracker::Impl::end_epoch(const detail::Boundary& e) {
  EpochSummary ep;
  ep.index = e.epoch;
  ep.duration_s = e.t - open_epoch_start;
  ep.devices = meters.energy_between(open_epoch_start, e.t, &ep.joules);
  ledger.count_epoch(meters, opt.pue, open_epoch_start, e.t);
  ++counted_epochs;
  counted_s += ep.duration_s;
  counted_joules += ep.joules;
  {
    std::lock_guard lk(mu());
    run.epochs.push_back(std::move(ep));
  }
  // A prediction after every epoch (none when epochs_before_pred is 0); the Predicted block once,
  // after epochs_before_pred epochs.
  bool predict_now = e.epoch == pred_after;
  std::string forecast_note;
  std::optional<Prediction> latest;
  if (pred_after > 0) latest = make_prediction(predict_now ? &forecast_note : nullptr);
  bool moved = false;
  if (latest && predict_now) {
    printed = latest->detail;
  } else if (latest && printed && opt.prediction_updates && e.epoch > pred_after) {
    const PredictionDetail& d = latest->detail;
    double kwh = latest->footprint.energy_kwh;
    moved = printed->range_known ? (kwh < printed->energy_kwh.low || kwh > printed->energy_kwh.high) : d.range_known;
    if (moved) printed = d;
  }
  {
    std::lock_guard lk(mu());
    run.latest_prediction = latest;
    if (latest && predict_now) {
      run.prediction = latest->footprint;
      run.prediction_detail = latest->detail;
    }
  }
  refresh_snapshot(false);
  fan("epoch_ended", [&](Reporter& r) { r.epoch_ended(run); });
  if (predict_now) {
    if (!forecast_note.empty()) say(Message::Channel::standard, forecast_note, kSamplerThread);
    fan("predicted", [&](Reporter& r) { r.predicted(run); });
  }
  if (moved) fan("prediction_moved", [&](Reporter& r) { r.prediction_moved(run); });
  if (e.epoch == monitor_after) report_actual(false);
}

// The set-up ends where epoch 1 starts (or at stop(), if no epoch started): counted once in the
// actual and in the steady-epochs prediction.
void Tracker::Impl::close_setup(double t) {
  setup_open = false;
  Setup s;
  s.duration_s = std::max(0.0, t - started_mono);
  s.devices = meters.energy_between(started_mono, t, &s.joules);
  ledger.count_epoch(meters, opt.pue, started_mono, t);
  setup_s = s.duration_s;
  setup_joules = s.joules;
  std::lock_guard lk(mu());
  run.setup = std::move(s);
}

// The prediction from every epoch ended so far (run.epochs: written by this thread only, so read
// without the lock).
Prediction Tracker::Impl::make_prediction(std::string* forecast_note) {
  PredictionInput in;
  in.planned = opt.epochs;
  in.pue = opt.pue;
  in.rule = opt.prediction_rule;
  in.skip_first = opt.prediction_skips_first_epoch;
  in.setup = run.setup;
  in.first_epoch_includes_setup = opt.first_epoch_includes_setup;
  in.level = opt.prediction_level;
  in.measured_epochs = counted_epochs;
  in.measured_s = counted_s;
  in.measured_joules = counted_joules;
  Prediction p = predict_run(run.epochs, in);
  // The forecast over the remaining predicted time where a provider gave one (fetched in the
  // background: nothing here waits for the network), else the value that holds now.
  double measured_s = counted_s + (opt.prediction_rule == PredictionRule::steady_epochs ? setup_s : 0.0);
  double remaining_s = std::max(0.0, p.footprint.duration_s - measured_s);
  std::optional<IntensityValue> forecast = intensity->forecast_mean(clock->wall(), remaining_s);
  IntensityValue f = forecast ? *forecast : ledger.current();
  if (forecast && forecast_note)
    *forecast_note = "Carbon intensity forecast for the remaining " + detail::log_duration(remaining_s) + ": " +
                     detail::fixed(f.g_per_kwh, 2) + " gCO2eq/kWh from " + f.source + "; the prediction uses it.";
  double g = predicted_intensity(ledger.live_values(), f.g_per_kwh, p.footprint.duration_s, opt.intensity_refresh_s);
  with_intensity(p, g, f.source, f.forecast);
  return p;
}

void Tracker::Impl::report_actual(bool early_stop) {
  if (reported_actual) return;
  reported_actual = true;
  {
    std::lock_guard lk(mu());
    shut_down = true;
  }
  refresh_snapshot(true);
  {
    std::lock_guard lk(mu());
    run.early_stop = early_stop;
    run.power_series = meters.power_series(started_mono);
  }
  fan("run_finished", [&](Reporter& r) { r.run_finished(run); });
}

// ---------------------------------------------------------------- public API

Tracker::Tracker(Options options, TrackerParts parts)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(parts))) {
  try {
    impl_->start();
  } catch (const std::exception& e) {
    if (!impl_->opt.ignore_errors || impl_->inert) throw;
    impl_->give_up(e.what());
  }
}

void Tracker::Impl::give_up(const std::string& what) noexcept {
  try {
    if (sampler) {
      {
        std::lock_guard lk(mu());
        sampler->quit_locked();
      }
      sampler->wake();
      sampler->join();
    }
    intensity->stop(2.0);
  } catch (...) {
    // Going inert regardless.
  }
  sampler.reset();
  // A start that failed before the sampler's thread ran (a meter's open() threw, no thread could
  // be started, the intensity's first value threw) leaves the meters unclosed: let go what they
  // hold for other processes (the node election's claims) now, not when the object is destroyed.
  // Meters the sampler already closed ignore a second close.
  try {
    const double t = clock->now();
    for (const auto& m : parts.meters) detail::close_if_marked(m, t);
  } catch (...) {
  }
  inert = shut_down = stopped = true;
  try {
    err(Severity::critical, "Ignored error: " + what + "\nContinued training without monitoring...");
  } catch (...) {
  }
}

void Tracker::Impl::start() {
  fan("run_started", [&](Reporter& r) { r.run_started(run); });
  for (const auto& note : parts.discovery_notes) fan("message", [&](Reporter& r) { r.message(note); });
  // Before any meter opens, so that even an inert tracker says what it could not cover.
  for (const auto& text : parts.coverage_warnings) warn(text, "MainThread");
  // Launcher variables that were malformed and ignored (detect_job).
  for (const auto& text : run.context.job.warnings) warn("job identity: " + text, "MainThread");
  meters = detail::MeterSet(parts.meters, opt.update_interval, clock);
  if (meters.empty()) {
    std::string msg =
        "No components were available. epochwatt measures CPUs through RAPL or an estimate, NVIDIA "
        "GPUs through NVML, AMD and Intel GPUs through hwmon, and simulated or replayed meters; "
        "run `epochwatt devices` for the reasons.";
    if (!opt.ignore_errors) {
      err(Severity::critical, msg);
      throw Error(msg);
    }
    err(Severity::critical, "Ignored error: " + msg + "\nContinued training without monitoring...");
    inert = true;
    shut_down = true;
    stopped = true;
    return;
  }
  run.context.meters = meters.infos();
  for (const auto& m : run.context.meters)
    if (opt.estimate_process_tree && m.method == Method::estimate) run.context.process_tracking = true;
  fan("meters_ready", [&](Reporter& r) { r.meters_ready(run); });

  double t0 = clock->now();
  started_mono = t0;
  meters.open(t0);
  sampler = std::make_unique<detail::Sampler>(clock, meters, opt.update_interval,
                                              [this](const std::string& m) { warn(m, kSamplerThread); });
  // The offline value at once; live values and IP geolocation arrive from the intensity
  // source's background work, so the start never waits for the network.
  apply_intensity(t0, intensity->initial());
  run.location = intensity->location();
  run.intensity = ledger.current();
  run.intensity_values = ledger.values();
  fan("sampling_started", [&](Reporter& r) { r.sampling_started(run); });
  next_intensity_refresh = t0 + opt.intensity_refresh_s;
  sampler->start([this](double t, const std::deque<detail::Boundary>& b, bool posted) { return on_round(t, b, posted); },
                 [this](const std::string& what) {
                   err(Severity::critical, "Internal error in the sampler: " + what, kSamplerThread);
                 });
  if (intensity->has_background_work()) {
    intensity->start([this] { sampler->intensity_posted(); });
    intensity->request_refresh();
  }
}

Tracker::~Tracker() {
  if (impl_ && impl_->foreign()) {
    // A forked child: the sampler thread is not there to join, and a mutex may have been held by
    // it at the fork. Touch nothing; the parent reports.
    (void)impl_.release();
    return;
  }
  try {
    stop();
  } catch (...) {
    // A destructor must not throw; stop() already logged what went wrong.
  }
}

// [[gnu::hot]] on the caller's path (these two, this_process_id, the clock, Sampler::push_locked):
// GCC places hot functions together (.text.hot), so that a call after a long gap misses on fewer
// code pages.
[[gnu::hot]] void Tracker::epoch_start() {
  Impl& d = *impl_;
  if (d.foreign()) return;
  double t = d.clock->now();
  bool started = false, wake = false;
  {
    std::lock_guard lk(d.mu());
    if (d.shut_down) return;
    if (!d.in_epoch) {
      d.in_epoch = true;
      d.started_epochs++;
      wake = d.sampler->push_locked({detail::Boundary::Kind::epoch_start, t, d.started_epochs});
      started = true;
    }
  }
  if (started) {
    // No wake-up (a futex call, 5 to 20 us on the caller's thread): the sampler's next regular
    // round reads every meter not read since t, and the start is interpolated between that
    // reading and the one before (Sampler). Only a long queue wakes it, or the first boundary of
    // a quiet spell (10 s without one), whose round then reads right after it (Sampler).
    if (wake) d.sampler->wake();
    return;
  }
  d.usage_error("epoch_start() called while epoch " + std::to_string(d.started_epochs) +
                " is still open; call epoch_end() first.");
}

[[gnu::hot]] bool Tracker::epoch_end() {
  Impl& d = *impl_;
  if (d.foreign()) return true;
  double t = d.clock->now();
  bool predicted_now = false, wake = false;
  int open_epochs;
  {
    std::lock_guard lk(d.mu());
    if (d.shut_down) return true;
    open_epochs = d.started_epochs;
    if (d.in_epoch) {
      d.in_epoch = false;
      d.ended_epochs++;
      wake = d.sampler->push_locked({detail::Boundary::Kind::epoch_end, t, d.started_epochs});
      predicted_now = d.ended_epochs == d.pred_after;
      if (d.ended_epochs == d.monitor_after) d.shut_down = true;
      wake = wake || predicted_now || d.shut_down;
    } else {
      open_epochs = -1;
    }
  }
  if (open_epochs < 0) {
    d.usage_error("epoch_end() called without a matching epoch_start() (" + std::to_string(d.ended_epochs) +
                  " epoch(s) ended so far).");
    return true;
  }
  // As epoch_start(): resolved at the sampler's next regular round (at most the shortest meter
  // period later), which also reports the epoch; flush() waits for that at once. Twice a run the
  // end wakes the sampler: after the epoch that prints the prediction and after the last
  // monitored one, so that those blocks come at once, in carbontracker's order with the job's
  // output.
  if (wake) d.sampler->wake();
  if (predicted_now && d.opt.stop_and_confirm) return d.confirm(*this);
  return true;
}

void Tracker::stop() {
  Impl& d = *impl_;
  if (d.foreign()) return;
  double t = d.clock->now();
  {
    std::lock_guard lk(d.mu());
    if (d.stopped) return;
    d.stopped = true;
    if (!d.shut_down) d.sampler->push_locked({detail::Boundary::Kind::stop, t, d.started_epochs});
    // Windows still open are measured until now; window_end() collects them later.
    for (auto& [id, w] : d.open_windows)
      if (!w.ending) {
        w.ending = w.cut = true;
        d.sampler->push_locked({detail::Boundary::Kind::window_end, t, 0, id});
      }
    d.shut_down = true;
    d.sampler->quit_locked();
  }
  d.sampler->wake();
  try {
    d.intensity->stop(2.0);  // a fetch in flight is abandoned: its value would come too late
  } catch (const std::exception& e) {
    d.err(Severity::warning, std::string("The intensity source did not stop cleanly: ") + e.what());
  }
  d.sampler->join();
  d.fan("flush", [](Reporter& r) { r.flush(); });
}

Tracker::EpochScope::EpochScope(Tracker& t) : tracker_(&t) { t.epoch_start(); }
Tracker::EpochScope::EpochScope(EpochScope&& other) noexcept : tracker_(other.tracker_) { other.tracker_ = nullptr; }
bool Tracker::EpochScope::end() {
  if (!tracker_) return true;
  Tracker* t = tracker_;
  tracker_ = nullptr;
  return t->epoch_end();
}
Tracker::EpochScope::~EpochScope() {
  if (!tracker_) return;
  try {
    tracker_->epoch_end();
  } catch (const std::exception& e) {
    tracker_->impl_->err(Severity::warning, std::string("Ignored error at the end of an epoch scope: ") + e.what());
  }
}

Tracker::WindowId Tracker::window_start(std::string name) {
  Impl& d = *impl_;
  if (d.foreign()) return 0;  // a forked child measures nothing (and must not take the mutex)
  double t = d.clock->now();
  WindowId id;
  {
    std::unique_lock lk(d.mu());
    if (d.stopped && !d.inert) {
      lk.unlock();
      d.usage_error("window_start() called after stop(); measurement windows need a running tracker.");
      return 0;  // with ignore_errors: no window; window_end(0) gives an empty measurement
    }
    id = ++d.next_window;
    d.open_windows[id] = {std::move(name), t};
    if (!d.inert) d.sampler->push_locked({detail::Boundary::Kind::window_start, t, 0, id});
  }
  if (!d.inert) d.sampler->wake();
  return id;
}

WindowMeasurement Tracker::window_end(WindowId id) {
  Impl& d = *impl_;
  if (d.foreign()) return {};  // a forked child: nothing measured, no mutex taken
  double t = d.clock->now();
  std::unique_lock lk(d.mu());
  auto open = d.open_windows.find(id);
  if (d.window_results.find(id) == d.window_results.end()) {
    if (open == d.open_windows.end()) {
      lk.unlock();
      if (id == 0 && d.opt.ignore_errors) return {};  // window_start() refused it, and said so
      d.usage_error("window_end(): no open measurement window with id " + std::to_string(id) + ".");
      return {};
    }
    if (d.inert) {  // nothing to measure with: the time only
      WindowMeasurement w;
      w.name = open->second.name;
      w.duration_s = t - open->second.t0;
      d.open_windows.erase(open);
      return w;
    }
    if (!open->second.ending) {  // else its end is queued already (stop(), another thread): wait
      open->second.ending = true;
      d.sampler->push_locked({detail::Boundary::Kind::window_end, t, 0, id});
      d.sampler->wake_locked();  // lk is held
    }
    // Woken after the sampler's post, or (if another thread collected this window) its absence.
    d.sampler->wait_round(lk, [&] { return d.window_results.count(id) > 0 || d.open_windows.count(id) == 0; });
    if (d.window_results.count(id) == 0) {
      lk.unlock();
      d.usage_error("window_end(): measurement window " + std::to_string(id) + " was collected by another call.");
      return {};
    }
  }
  auto it = d.window_results.find(id);
  WindowMeasurement w = std::move(it->second);
  d.window_results.erase(it);
  d.sampler->notify_waiters();  // another waiter on this id learns that it is gone
  return w;
}

// Waits until the sampler has handled every boundary so far and, with `and_intensity`, applied every
// intensity round asked for so far (flush); without it a round in flight is not waited for
// (flush_measurements).
void Tracker::Impl::wait_for_sampler(bool and_intensity) {
  if (foreign() || inert) return;
  sampler->wake();  // epoch boundaries are queued without a wake-up (epoch_start, epoch_end)
  std::unique_lock lk(mu());
  sampler->wait_idle(lk, [&] { return !and_intensity || intensity_applied >= intensity->requested_rounds(); });
}

void Tracker::flush() const { impl_->wait_for_sampler(true); }

void Tracker::flush_measurements() const { impl_->wait_for_sampler(false); }

// In a forked child the accessors answer without the mutex, which the parent's sampler may have
// held at the fork: nothing measured, nothing predicted, finished.
std::optional<Prediction> Tracker::latest_prediction() const {
  if (impl_->foreign()) return std::nullopt;
  std::lock_guard lk(impl_->mu());
  return impl_->run.latest_prediction;
}

std::optional<Setup> Tracker::setup() const {
  if (impl_->foreign()) return std::nullopt;
  std::lock_guard lk(impl_->mu());
  return impl_->run.setup;
}

std::optional<Consumption> Tracker::prediction() const {
  if (impl_->foreign()) return std::nullopt;
  std::lock_guard lk(impl_->mu());
  if (!impl_->run.latest_prediction) return std::nullopt;
  return impl_->run.latest_prediction->footprint;
}

Consumption Tracker::totals() const {
  const Impl& d = *impl_;
  if (d.foreign()) return {};
  std::lock_guard lk(d.mu());
  if (d.run.actual) return *d.run.actual;
  return footprint(0, 0.0, 0.0, d.opt.pue, d.run.intensity.g_per_kwh, d.run.intensity.source);
}

std::vector<EpochSummary> Tracker::epochs() const {
  if (impl_->foreign()) return {};
  std::lock_guard lk(impl_->mu());
  return impl_->run.epochs.to_vector();
}

std::vector<MeterInfo> Tracker::meters() const { return impl_->run.context.meters; }

bool Tracker::finished() const {
  if (impl_->foreign()) return true;
  std::lock_guard lk(impl_->mu());
  return impl_->shut_down;
}

RankEpoch Tracker::rank_epoch() const {
  const Impl& d = *impl_;
  RankEpoch r;
  r.rank = d.run.context.job.rank;  // fixed once built
  r.node_hash = node_hash(d.run.context.job.node);
  if (d.foreign() || d.inert) {
    r.inert = 1;  // it will never measure an epoch: rank 0 need not wait for one
    return r;
  }
  std::lock_guard lk(d.mu());
  const EpochTable& t = d.run.epochs;
  for (std::size_t i = t.size(); i-- > 0;) {
    if (t.interrupted(i)) continue;
    r.epoch = t.index(i);
    r.duration_s = t.duration_s(i);
    for (std::size_t c = 0; c < t.devices().size(); ++c)
      if (auto j = t.device_joules(i, c)) (t.devices()[c].component == Component::gpu ? r.gpu_joules : r.cpu_joules) += *j;
    break;
  }
  r.epochs_ended = t.counted_epochs();
  if (d.run.setup) {
    r.setup_s = d.run.setup->duration_s;
    r.setup_joules = d.run.setup->joules;
  }
  // As the tracker's actual sums them (refresh_snapshot): set-up + epochs, in that order.
  r.total_s = r.setup_s + t.counted_s();
  r.total_joules = r.setup_joules + t.counted_joules();
  return r;
}

JobFootprint Tracker::report_job(const JobReport& job, JobReport::Stage stage) {
  Impl& d = *impl_;
  JobFootprint f;
  f.stage = stage;
  f.epochs_planned = d.opt.epochs;
  f.world_size = job.world_size();
  f.ranks = job.ranks_reported();
  f.nodes = job.nodes();
  f.inert = job.inert();
  if (d.foreign() || d.inert) return f;
  // This rank's intensity stands for the job's (docs/cluster.md): its prediction's, or its actual's.
  double g = kWorldAverageGPerKwh;
  std::string source;
  bool forecast = false;
  {
    std::lock_guard lk(d.mu());
    g = d.run.intensity.g_per_kwh;
    source = d.run.intensity.source;
    if (stage == JobReport::Stage::predicted && d.run.latest_prediction) {
      g = d.run.latest_prediction->footprint.intensity_g_per_kwh;
      source = d.run.latest_prediction->footprint.intensity_source;
      forecast = d.run.latest_prediction->footprint.intensity_forecast;
    } else if (stage == JobReport::Stage::actual && d.run.actual) {
      g = d.run.actual->intensity_g_per_kwh;
      source = d.run.actual->intensity_source;
    }
  }
  if (stage == JobReport::Stage::predicted) {
    PredictionInput in;
    in.planned = d.opt.epochs;
    in.pue = d.opt.pue;
    in.rule = d.opt.prediction_rule;
    in.skip_first = d.opt.prediction_skips_first_epoch;
    in.setup = job.setup();
    in.first_epoch_includes_setup = d.opt.first_epoch_includes_setup;
    in.level = d.opt.prediction_level;
    Prediction p = predict_run(job.epochs(d.pred_after > 0 ? d.pred_after : d.opt.epochs), in);
    with_intensity(p, g, source, forecast);
    f.footprint = p.footprint;
    f.detail = p.detail;
    f.missing = job.missing(false);
    f.epoch = d.pred_after > 0 ? d.pred_after : d.opt.epochs;
    f.late = job.late(f.epoch);
  } else {
    f.footprint = footprint(job.epochs_ended(), job.total_s(), job.total_joules(), d.opt.pue, g, source);
    f.missing = job.missing(true);
    f.stopped_early = job.stopped_early();
  }
  d.fan("job_reported", [&](Reporter& r) { r.job_reported(d.run.context, f); });
  return f;
}

std::string Tracker::standard_log_path() const { return impl_->parts.files.standard_log; }
std::string Tracker::output_log_path() const { return impl_->parts.files.output_log; }
std::string Tracker::error_log_path() const { return impl_->parts.files.error_log; }
std::string Tracker::json_summary_path() const { return impl_->parts.files.json_summary; }

}  // namespace epochwatt
