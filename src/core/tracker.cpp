// The Tracker: the caller's thread stamps epoch boundaries; one sampler thread reads the meters,
// resolves each boundary by interpolation on the meters' timelines, and writes every report.
#include "epochwatt/tracker.hpp"

#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <iostream>
#include <map>
#include <mutex>
#include <thread>

#include "core/format.hpp"
#include "core/power_history.hpp"
#include "core/timeline.hpp"
#include "epochwatt/errors.hpp"
#include "epochwatt/registry.hpp"
#include "epochwatt/version.hpp"
#include "intensity/service.hpp"
#include "report/ct_logs.hpp"
#include "report/ct_report.hpp"
#include "report/json_summary.hpp"
#include "report/output_sink.hpp"

namespace epochwatt {

using detail::kJoulesPerKwh;
using detail::Level;

namespace {

constexpr const char* kSamplerThread = "CarbonTrackerThread";
constexpr double kStartWakeSlack = 0.01;  // seconds; see Tracker::epoch_start

// carbontracker reports DRAM inside its "cpu" component.
std::string report_component_of(Component c) { return c == Component::gpu ? "gpu" : "cpu"; }

std::shared_ptr<Clock> the_system_clock() {
  struct SystemClock final : Clock {
    double now() const override {
      return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
    }
    std::chrono::system_clock::time_point wall() const override { return std::chrono::system_clock::now(); }
  };
  static std::shared_ptr<Clock> clock = std::make_shared<SystemClock>();
  return clock;
}

}  // namespace

std::shared_ptr<Clock> system_clock() { return the_system_clock(); }

struct Tracker::Impl {
  enum class EventKind { start, end, stop, window_start, window_end };
  struct Event {
    EventKind kind;
    double t;
    int epoch;
    WindowId window = 0;
  };
  struct OpenWindow {  // under mu
    std::string name;
    double t0;
    bool ending = false;  // its end is queued (by window_end() or stop()): nobody queues it again
    bool cut = false;     // stop() ended it
  };
  struct Slot {
    std::shared_ptr<Meter> meter;
    MeterInfo info;
    std::string report_component;
    detail::Timeline timeline;
    detail::PowerHistory power;  // for the JSON summary's power_series
    double period = 1.0;
    double next_due = 0.0;
    bool lost = false;
    double last_good = 0.0;  // time of the last successful read: later boundaries are guesses
    bool warned = false;
  };
  struct IntensityEpoch {  // an intensity value and the monotonic time from which it held
    double since;
    IntensityValue value;
  };

  Options opt;
  // The process that built the tracker. After fork() the child has no sampler thread and may
  // inherit locked mutexes: there every call returns at once and the destructor leaks the Impl.
  const pid_t owner_pid = ::getpid();
  bool foreign() const { return ::getpid() != owner_pid; }
  std::shared_ptr<Clock> clock;
  std::vector<std::string> components;
  int pred_after = 0;     // resolved epochs_before_pred; 0 = never
  int monitor_after = 0;  // resolved monitor_epochs
  bool inert = false;     // no meter: every call is a no-op (ignore_errors)

  std::unique_ptr<detail::CtLogger> log;
  std::unique_ptr<detail::IntensityService> intensity;
  std::chrono::system_clock::time_point started_wall;
  std::string run_id = detail::make_run_id();
  std::unique_ptr<detail::OutputSink> outputs;  // null without Options::outputs
  double started_mono = 0.0;  // clock->now() when the meters opened: t = 0 of power_series

  // --- owned by the sampler thread (and by stop() after the join) ---
  std::vector<Slot> slots;
  std::vector<IntensityEpoch> intensity_history;
  std::map<WindowId, double> window_starts;  // open windows as the sampler saw them: id -> start
  // Time at which the sampler last started a reading of every meter (a boundary round). An
  // epoch_start() within kStartWakeSlack after it need not wake the sampler (see epoch_start).
  std::atomic<double> last_full_read{-1e300};
  double next_intensity_refresh = 0.0;
  bool intensity_entry_used = false;  // an epoch was open while the newest intensity value held
  double open_epoch_start = 0.0;
  bool epoch_open = false;  // the sampler's view: a start handled, its end not yet
  bool reported_actual = false;
  double counted_grams = 0.0;     // gCO2e of the ended epochs, intensity weighted by energy
  double counted_weight_kwh = 0.0;  // the energy (x PUE) those grams were computed from

  // --- shared, under mu ---
  mutable std::mutex mu;
  std::condition_variable wake;          // the sampler waits on it
  mutable std::condition_variable done;  // flush() waits on it
  std::deque<Event> pending;
  std::uint64_t pushed = 0, processed = 0;
  int started_epochs = 0, ended_epochs = 0;
  bool in_epoch = false;
  bool shut_down = false;  // caller-visible: no further epoch accounting
  bool stopped = false;    // stop() has run
  bool quit = false;
  std::vector<EpochSummary> epochs;  // ended epochs, in order (interrupted one last, if any)
  std::optional<Consumption> prediction;
  std::optional<Consumption> actual;
  std::vector<std::string> warnings;
  WindowId next_window = 0;
  std::map<WindowId, OpenWindow> open_windows;
  std::map<WindowId, WindowMeasurement> window_results;  // measured, not yet collected
  std::thread sampler;
  std::atomic<bool> intensity_ready{false};  // the intensity worker posted a value
  long intensity_applied = 0;                // rounds of the worker applied by the sampler

  explicit Impl(Options o);
  void discover();
  void run_sampler();
  void read_meters(double t, bool all);
  void handle(const Event& e);
  void end_epoch(const Event& e);
  void apply_intensity(double t, const IntensityValue& v);
  void log_intensity_notes();
  double grams_between(double t0, double t1, double* joules_out) const;
  WindowMeasurement measure_window(double t0, double t1) const;
  void post_window(WindowId id, WindowMeasurement w);
  Consumption make_prediction();
  void report_actual(bool early_stop);
  void write_json_summary(bool early_stop);
  detail::RunRecord run_record(bool early_stop);
  void push(Event e);
  void warn(const std::string& msg, const char* thread);
  void usage_error(const std::string& msg);
  bool confirm(Tracker& self);
};

Tracker::Impl::Impl(Options o) : opt(std::move(o)) {
  validate(opt);
  clock = opt.clock ? opt.clock : system_clock();
  components = parse_components(opt.components);
  pred_after = opt.epochs_before_pred == -1 ? opt.epochs : opt.epochs_before_pred;
  monitor_after = opt.monitor_epochs == -1 ? opt.epochs : opt.monitor_epochs;
  started_wall = clock->wall();
  std::ostream* console = opt.console ? opt.console : &std::cout;
  log = std::make_unique<detail::CtLogger>(clock, console, opt.verbose, opt.log_dir.value_or(""),
                                           opt.log_file_prefix);
  intensity = std::make_unique<detail::IntensityService>(opt, nullptr, [c = clock] { return c->wall(); });
  if (!opt.outputs.empty())
    outputs = std::make_unique<detail::OutputSink>(opt.outputs, opt.proc_root,
                                                   [this](const std::string& m) { warn(m, kSamplerThread); });
}

void Tracker::Impl::warn(const std::string& msg, const char* thread) {
  log->err(Level::warning, msg, thread);
  std::lock_guard lk(mu);
  warnings.push_back(msg);
}

void Tracker::Impl::usage_error(const std::string& msg) {
  if (!opt.ignore_errors) throw UsageError(msg);
  log->err(Level::warning, "Ignored error: " + msg);
}

// stop_and_confirm: carbontracker's dialogue after the prediction. Runs on the caller's thread,
// which must wait for the prediction to be printed before asking.
bool Tracker::Impl::confirm(Tracker& self) {
  self.flush();
  std::istream& in = opt.confirm_input ? *opt.confirm_input : std::cin;
  log->output("Continue training (y/n)?");
  for (;;) {
    std::string answer;
    if (!std::getline(in, answer)) {
      log->err(Level::warning, "No answer to 'Continue training (y/n)?' (end of input); training continues.");
      return true;
    }
    while (!answer.empty() && std::isspace(static_cast<unsigned char>(answer.back()))) answer.pop_back();
    for (char& c : answer) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (answer == "y") {
      log->output("Continuing...");
      return true;
    }
    if (answer == "n") {
      log->standard("Session ended by user.");
      log->output("Quitting...");
      self.stop();
      return false;
    }
    log->output("Input not recognized. Try again (y/n):");
  }
}

void Tracker::Impl::discover() {
  if (opt.sim_cpu && opt.sim_cpu_tdp)
    log->console_line("Using simulated CPU: " + *opt.sim_cpu + " with TDP: " +
                      detail::fixed(*opt.sim_cpu_tdp * opt.sim_cpu_util, 2) + "W (at " +
                      detail::fixed(opt.sim_cpu_util * 100, 0) + "% utilization)");
  if (opt.sim_gpu && opt.sim_gpu_watts)
    log->console_line("Using simulated GPU: " + *opt.sim_gpu + " with power consumption: " +
                      detail::fixed(*opt.sim_gpu_watts * opt.sim_gpu_util, 2) + "W (at " +
                      detail::fixed(opt.sim_gpu_util * 100, 0) + "% utilization)");

  // A component takes the simulated or replayed meter if one was asked for, else the first
  // backend (in registry order: counters before estimates) that finds meters for it. Backends
  // run lazily, once each, so an estimate is never built where a counter answered.
  const auto& backends = BackendRegistry::builtin().backends();
  std::vector<std::optional<Discovery>> found(backends.size());
  auto discovered = [&](std::size_t i) -> Discovery& {
    if (!found[i]) {
      try {
        found[i] = backends[i].discover(opt);
      } catch (const std::exception& e) {
        found[i] = Discovery{};
        found[i]->reason = std::string("discovery failed: ") + e.what();
      }
    }
    return *found[i];
  };
  for (const auto& comp : components) {
    std::vector<std::shared_ptr<Meter>> chosen;
    std::vector<std::string> reasons;
    for (std::size_t i = 0; i < backends.size() && chosen.empty(); ++i) {
      const auto& spec = backends[i];
      bool serves = std::any_of(spec.components.begin(), spec.components.end(),
                                [&](Component c) { return report_component_of(c) == comp; });
      bool explicit_source = spec.name == "simulated" || spec.name == "replay";
      if (!serves || (!explicit_source && !opt.discover_meters)) continue;
      Discovery& disc = discovered(i);
      for (const auto& m : disc.meters)
        if (report_component_of(m->info().component) == comp) chosen.push_back(m);
      // An explicit source's reason is noise ("not requested") unless the user asked for it.
      bool requested = spec.name == "replay" && opt.replay_trace.has_value();
      if (chosen.empty() && !disc.reason.empty() && (!explicit_source || requested))
        reasons.push_back(spec.name + ": " + disc.reason);
    }
    for (const auto& m : opt.meters)
      if (m && report_component_of(m->info().component) == comp) chosen.push_back(m);
    if (chosen.empty()) {
      // Asked for by name: a warning; part of "all": for information (a CPU-only machine).
      Level level = opt.components == "all" ? Level::info : Level::warning;
      log->err(level, comp == "gpu" ? "No GPU(s) available." : "No CPU(s) available.");
      for (const auto& r : reasons) log->err(level, "  " + r);
    }
    for (auto& m : chosen) {
      Slot s;
      s.meter = m;
      s.info = m->info();
      s.report_component = comp;
      s.period = s.info.poll_period_s > 0 ? std::min(s.info.poll_period_s, opt.update_interval)
                                          : opt.update_interval;
      slots.push_back(std::move(s));
    }
  }
}

void Tracker::Impl::push(Event e) {
  pushed++;
  pending.push_back(e);
}

// ---------------------------------------------------------------- sampler thread

void Tracker::Impl::read_meters(double round_t, bool all) {
  for (auto& s : slots) {
    if (s.lost || (!all && round_t < s.next_due)) continue;
    // Each reading is stamped with its own time: a slow meter (NVML's energy call takes ~4 ms
    // on an H100) must not shift the readings of the meters read after it.
    double t = slots.size() > 1 ? clock->now() : round_t;
    s.next_due = t + s.period;
    MeterReading r;
    try {
      r = s.meter->read(t);
    } catch (const std::exception& e) {
      r.ok = false;
      r.error = e.what();
    }
    if (r.ok || r.lost) {
      s.timeline.append(t, std::isfinite(r.joules) ? r.joules : s.timeline.back().joules);
      s.power.add(t, s.timeline.back().joules);
    }
    if (r.ok && !r.lost) s.last_good = t;
    if (r.lost) {
      s.lost = true;
      warn("Meter " + s.info.id + " (" + s.info.device_name + ") stopped: " + r.error +
               ". Energy measured until then is kept; the run goes on without it.",
           kSamplerThread);
    } else if (!r.ok && !s.warned) {
      s.warned = true;
      warn("Meter " + s.info.id + " (" + s.info.device_name + "): read failed: " + r.error +
               ". Its last value stands until a read succeeds.",
           kSamplerThread);
    }
  }
}

void Tracker::Impl::log_intensity_notes() {
  for (auto& note : intensity->take_notes()) {
    log->err(note.warning ? Level::warning : Level::info, note.text, kSamplerThread);
    if (note.warning) {
      std::lock_guard lk(mu);
      warnings.push_back(note.text);
    }
  }
}

// A new intensity value holds from t. A value that held while no epoch was open counted for no
// energy: it is replaced rather than listed.
void Tracker::Impl::apply_intensity(double t, const IntensityValue& v) {
  log_intensity_notes();
  if (v.live)
    log->standard("Carbon intensity fetched: " + detail::fixed(v.g_per_kwh, 2) + " gCO2/kWh at " +
                  intensity->location().address());
  bool open;
  {
    std::lock_guard lk(mu);
    open = in_epoch;
  }
  if (!intensity_history.empty() && !intensity_entry_used && !open) {
    intensity_history.back() = {intensity_history.back().since, v};
  } else if (intensity_history.empty() || intensity_history.back().value.g_per_kwh != v.g_per_kwh ||
             intensity_history.back().value.source != v.source) {
    intensity_history.push_back({t, v});
    intensity_entry_used = open;
  }
}

// gCO2e of the energy drawn between t0 and t1 (with PUE), each intensity value weighted by the
// energy drawn while it held (spec D17).
double Tracker::Impl::grams_between(double t0, double t1, double* joules_out) const {
  double grams = 0, joules = 0;
  for (std::size_t i = 0; i < intensity_history.size(); ++i) {
    double from = i == 0 ? t0 : std::max(t0, intensity_history[i].since);
    double to = i + 1 < intensity_history.size() ? std::min(t1, intensity_history[i + 1].since) : t1;
    if (to <= from) continue;
    double j = 0;
    for (const auto& s : slots) j += s.timeline.energy_between(from, to);
    joules += j;
    grams += j * opt.pue / kJoulesPerKwh * intensity_history[i].value.g_per_kwh;
  }
  if (joules_out) *joules_out = joules;
  return grams;
}

// The result of a window's end, for window_end() to collect; posted exactly once per window.
void Tracker::Impl::post_window(WindowId id, WindowMeasurement w) {
  std::lock_guard lk(mu);
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
  for (const auto& s : slots) {
    double j = s.timeline.energy_between(t0, t1);
    w.joules += j;
    w.devices.push_back({s.info.id, s.info.device_name, s.info.component, s.info.method, j, s.last_good >= t1});
  }
  w.energy_kwh = w.joules * opt.pue / kJoulesPerKwh;
  w.co2_g = grams_between(t0, t1, nullptr);
  if (w.energy_kwh > 0)
    w.intensity_g_per_kwh = w.co2_g / w.energy_kwh;
  else
    w.intensity_g_per_kwh = intensity_history.empty() ? kWorldAverageGPerKwh : intensity_history.back().value.g_per_kwh;
  return w;
}

void Tracker::Impl::run_sampler() {
  // SCHED_BATCH: ordinary time-sharing without wakeup preemption. Woken at a boundary, the sampler
  // then waits for a free CPU instead of taking the training thread's, which cut the caller's
  // cost of an epoch_start + epoch_end pair from ~19 us to ~5 us on a 2-vCPU VM
  // (docs/performance.md). Failure to set it is harmless.
  sched_param param{};
  param.sched_priority = 0;
  (void)pthread_setschedparam(pthread_self(), SCHED_BATCH, &param);
  for (;;) {
    std::deque<Event> batch;
    bool quitting;
    {
      std::unique_lock lk(mu);
      double now = clock->now();
      double wait_s = opt.update_interval;
      for (const auto& s : slots)
        if (!s.lost) wait_s = std::min(wait_s, std::max(0.0, s.next_due - now));
      wake.wait_for(lk, std::chrono::duration<double>(wait_s),
                    [&] { return quit || !pending.empty() || intensity_ready.load(); });
      batch.swap(pending);
      quitting = quit;
    }
    double t = clock->now();  // this round's time
    try {
      read_meters(t, !batch.empty());  // a boundary takes an extra reading of every meter
      if (!batch.empty()) last_full_read.store(t, std::memory_order_relaxed);
      if (intensity_ready.exchange(false)) {
        if (auto posted = intensity->poll()) {
          read_meters(t, true);  // a point on every timeline where the intensity changes
          apply_intensity(t, posted->value);
          std::lock_guard lk(mu);
          intensity_applied = std::max(intensity_applied, posted->round);
        }
      }
      if (t >= next_intensity_refresh) {
        intensity->request_refresh();  // answered on the intensity worker; applied when it posts
        next_intensity_refresh = t + opt.intensity_refresh_s;
      }
    } catch (const std::exception& e) {
      // Never let an error escape the sampler: record it and keep measuring.
      log->err(Level::critical, std::string("Internal error in the sampler: ") + e.what(), kSamplerThread);
    }
    // Each event on its own, so that one that fails cannot take the others (a window's end that
    // someone waits for) with it.
    for (const auto& e : batch) {
      try {
        handle(e);
      } catch (const std::exception& ex) {
        log->err(Level::critical, std::string("Internal error in the sampler: ") + ex.what(), kSamplerThread);
        if (e.kind == EventKind::window_end) post_window(e.window, WindowMeasurement{});
      }
    }
    try {
      // Points before the open epoch's start, or between epochs before this round (the last point
      // before it stays, so a start stamped just before the round is still bracketed), and before
      // the oldest open window are no longer needed.
      double keep_from = epoch_open ? std::min(open_epoch_start, t) : t;
      for (const auto& [id, t0] : window_starts) keep_from = std::min(keep_from, t0);
      for (auto& s : slots) s.timeline.forget_before(keep_from);
    } catch (const std::exception& e) {
      log->err(Level::critical, std::string("Internal error in the sampler: ") + e.what(), kSamplerThread);
    }
    {
      std::lock_guard lk(mu);
      processed += batch.size();
    }
    done.notify_all();
    if (quitting) return;
  }
}

void Tracker::Impl::handle(const Event& e) {
  switch (e.kind) {
    case EventKind::start:
      open_epoch_start = e.t;
      epoch_open = true;
      intensity_entry_used = true;
      break;
    case EventKind::end:
      epoch_open = false;
      end_epoch(e);
      break;
    case EventKind::window_start:
      window_starts[e.window] = e.t;
      break;
    case EventKind::window_end: {
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
    case EventKind::stop: {
      bool open;
      int open_index;
      {
        std::lock_guard lk(mu);
        open = in_epoch;
        open_index = started_epochs;
      }
      if (reported_actual) break;
      if (open) {
        // The open epoch is not counted; its partial figures are kept, marked interrupted.
        EpochSummary part;
        part.index = open_index;
        part.interrupted = true;
        part.duration_s = e.t - open_epoch_start;
        for (const auto& s : slots) {
          double j = s.timeline.energy_between(open_epoch_start, e.t);
          part.joules += j;
          part.devices.push_back({s.info.id, s.info.device_name, s.info.component, s.info.method, j,
                                  s.last_good >= e.t});
        }
        log->standard("Interrupted epoch " + std::to_string(part.index) + " (not counted): ran " +
                      detail::log_duration(part.duration_s) + " and drew " +
                      detail::shortest_fixed(part.joules) + " J.");
        std::lock_guard lk(mu);
        epochs.push_back(part);
      }
      log->standard("Training was interrupted before all " + std::to_string(monitor_after) +
                    " epochs were monitored.");
      report_actual(true);
      break;
    }
  }
}

void Tracker::Impl::end_epoch(const Event& e) {
  EpochSummary ep;
  ep.index = e.epoch;
  ep.duration_s = e.t - open_epoch_start;
  for (const auto& s : slots) {
    double j = s.timeline.energy_between(open_epoch_start, e.t);
    ep.joules += j;
    // Complete only if a successful read at or after the end measured it: a failed or lost
    // meter's value at the boundary is the last one it gave, not what the device drew.
    ep.devices.push_back({s.info.id, s.info.device_name, s.info.component, s.info.method, j,
                          s.last_good >= e.t});
  }
  double joules_in_epoch = 0;
  counted_grams += grams_between(open_epoch_start, e.t, &joules_in_epoch);
  counted_weight_kwh += joules_in_epoch * opt.pue / kJoulesPerKwh;

  log->standard("Epoch " + std::to_string(ep.index) + ":");
  log->standard("Duration: " + detail::log_duration(ep.duration_s));
  for (const auto& comp : components) {
    std::vector<DeviceEnergy> devs;
    for (const auto& d : ep.devices)
      if (report_component_of(d.component) == comp) devs.push_back(d);
    if (devs.empty()) continue;
    for (const auto& line : detail::epoch_component_lines(comp, devs, ep.duration_s)) log->standard(line);
  }
  {
    std::lock_guard lk(mu);
    epochs.push_back(ep);
  }
  if (ep.index == pred_after) {
    Consumption p = make_prediction();
    {
      std::lock_guard lk(mu);
      prediction = p;
    }
    log->output(detail::consumption_block("Predicted consumption for " + std::to_string(opt.epochs) + " epoch(s):",
                                          p, opt.decimal_precision, opt.interpretable));
  }
  if (outputs) outputs->epoch_ended(run_record(false));
  if (ep.index == monitor_after) report_actual(false);
}

Consumption Tracker::Impl::make_prediction() {
  std::vector<EpochSummary> measured;
  {
    std::lock_guard lk(mu);
    for (const auto& e : epochs)
      if (!e.interrupted && e.index <= pred_after) measured.push_back(e);
  }
  std::size_t first = (opt.prediction_skips_first_epoch && measured.size() > 1) ? 1 : 0;
  double joules = 0, seconds = 0;
  for (std::size_t i = first; i < measured.size(); ++i) {
    joules += measured[i].joules;
    seconds += measured[i].duration_s;
  }
  double n = static_cast<double>(measured.size() - first);
  Consumption c;
  c.epochs = opt.epochs;
  c.duration_s = n > 0 ? opt.epochs * seconds / n : 0.0;
  c.energy_kwh = n > 0 ? opt.epochs * joules / n * opt.pue / kJoulesPerKwh : 0.0;
  // carbontracker: the mean of every live value stored so far and the forecast F over the
  // predicted duration, F counted once per started refresh period of it. F is the mean of the
  // newest forecast series over the remaining predicted time where a provider gave one (fetched
  // by the intensity worker: nothing here waits for the network), else the value that holds now.
  double done_s = 0;
  for (const auto& m : measured) done_s += m.duration_s;
  double remaining_s = std::max(0.0, c.duration_s - done_s);
  std::optional<IntensityValue> forecast = intensity->forecast_mean(clock->wall(), remaining_s);
  IntensityValue f = forecast ? *forecast : intensity_history.empty() ? IntensityValue{} : intensity_history.back().value;
  if (forecast)
    log->standard("Carbon intensity forecast for the remaining " + detail::log_duration(remaining_s) + ": " +
                  detail::fixed(f.g_per_kwh, 2) + " gCO2eq/kWh from " + f.source + "; the prediction uses it.");
  double sum = 0;
  int count = 0;
  for (const auto& h : intensity_history)
    if (h.value.live) sum += h.value.g_per_kwh, ++count;
  int repeats = 1 + static_cast<int>(std::floor(c.duration_s / opt.intensity_refresh_s));
  sum += f.g_per_kwh * repeats;
  count += repeats;
  c.intensity_g_per_kwh = sum / count;
  c.intensity_source = f.source;
  c.intensity_forecast = f.forecast;
  c.co2_g = c.energy_kwh * c.intensity_g_per_kwh;
  c.km_by_car = c.co2_g / detail::kCarGramsPerKm;
  return c;
}

void Tracker::Impl::report_actual(bool early_stop) {
  if (reported_actual) return;
  reported_actual = true;
  std::vector<EpochSummary> done_epochs;
  {
    std::lock_guard lk(mu);
    shut_down = true;
    for (const auto& e : epochs)
      if (!e.interrupted) done_epochs.push_back(e);
  }
  Consumption c;
  c.epochs = static_cast<int>(done_epochs.size());
  double joules = 0;
  for (const auto& e : done_epochs) {
    c.duration_s += e.duration_s;
    joules += e.joules;
  }
  // Each intensity value weighted by the energy drawn while it held (spec D17); with no energy
  // drawn, the value that holds now.
  const IntensityValue& used = intensity_history.empty() ? IntensityValue{} : intensity_history.back().value;
  if (intensity_history.size() == 1 || counted_weight_kwh <= 0)
    c.intensity_g_per_kwh = intensity_history.empty() ? kWorldAverageGPerKwh : used.g_per_kwh;
  else
    c.intensity_g_per_kwh = counted_grams / counted_weight_kwh;
  c.intensity_source = used.source;
  c.energy_kwh = joules * opt.pue / kJoulesPerKwh;
  c.co2_g = c.energy_kwh * c.intensity_g_per_kwh;
  c.km_by_car = c.co2_g / detail::kCarGramsPerKm;

  std::vector<double> values;
  for (const auto& h : intensity_history) values.push_back(h.value.g_per_kwh);
  if (values.empty()) values.push_back(c.intensity_g_per_kwh);
  log->standard("Carbon intensities (gCO2eq/kWh) fetched every " +
                (opt.intensity_refresh_s == std::floor(opt.intensity_refresh_s)
                     ? std::to_string(static_cast<long long>(opt.intensity_refresh_s))
                     : detail::python_float_repr(opt.intensity_refresh_s)) +
                " s at detected location: " +
                intensity->location().address() + ": " + detail::python_rounded_list(values));
  std::string avg = "Average carbon intensity during training was " + detail::fixed(c.intensity_g_per_kwh, 2) + " gCO2eq/kWh. ";
  log->standard(avg);
  log->output(avg);
  std::string title = pred_after == 0 ? "Actual consumption:" : "Actual consumption for " + std::to_string(c.epochs) + " epoch(s):";
  log->output(detail::consumption_block(title, c, opt.decimal_precision, opt.interpretable));
  log->output("Finished monitoring.");
  log->standard("Monitoring thread ended.");
  {
    std::lock_guard lk(mu);
    actual = c;
  }
  write_json_summary(early_stop);
  if (outputs) outputs->run_finished(run_record(early_stop));
}

// The run as it stands, for the JSON summary and the outputs. Before the actual report, `actual`
// holds the totals of the epochs ended so far (complete == false). Sampler thread only.
detail::RunRecord Tracker::Impl::run_record(bool early_stop) {
  detail::RunRecord r;
  r.tool_name = opt.tool_name;
  r.run_id = run_id;
  r.started = started_wall;
  r.finished = clock->wall();
  for (const auto& s : slots) {
    r.meters.push_back(s.info);
    if (opt.estimate_process_tree && s.info.method == Method::estimate) r.process_tracking = true;
  }
  r.components = components;
  r.pue = opt.pue;
  r.epochs_planned = opt.epochs;
  r.epochs_before_pred = pred_after;
  r.monitor_epochs = monitor_after;
  {
    std::lock_guard lk(mu);
    r.epochs = epochs;
    r.prediction = prediction;
    r.actual = actual;
    r.warnings = warnings;
  }
  r.complete = r.actual.has_value();
  r.early_stop = early_stop;
  r.location = intensity->location();
  if (!intensity_history.empty()) r.intensity = intensity_history.back().value;
  for (const auto& h : intensity_history) r.intensity_values.push_back(h.value.g_per_kwh);
  if (!r.actual) {
    Consumption c;
    double joules = 0;
    for (const auto& e : r.epochs)
      if (!e.interrupted) c.epochs++, c.duration_s += e.duration_s, joules += e.joules;
    c.energy_kwh = joules * opt.pue / kJoulesPerKwh;
    // As report_actual computes it, so that the last snapshot and the final figures agree.
    c.intensity_g_per_kwh = intensity_history.size() <= 1 || counted_weight_kwh <= 0
                                ? r.intensity.g_per_kwh
                                : counted_grams / counted_weight_kwh;
    c.co2_g = c.energy_kwh * c.intensity_g_per_kwh;
    c.intensity_source = r.intensity.source;
    c.km_by_car = c.co2_g / detail::kCarGramsPerKm;
    r.actual = c;
  }
  r.log_std = log->files().standard;
  r.log_output = log->files().output;
  if (!r.log_std.empty() && std::filesystem::exists(log->files().error)) r.log_error = log->files().error;
  return r;
}

void Tracker::Impl::write_json_summary(bool early_stop) {
  std::string path = opt.json_path ? *opt.json_path : (opt.write_json_summary ? log->files().json : "");
  if (path.empty()) return;
  detail::RunRecord r = run_record(early_stop);
  // Power over time, only in the summary (the per-epoch outputs do not carry it).
  for (const auto& s : slots) {
    detail::PowerSeries p{s.info.id, s.info.device_name, s.info.component, s.info.method, 0.0, {}, {}};
    auto buckets = s.power.buckets();
    if (!buckets.empty()) p.start_s = buckets.front().t0 - started_mono;
    for (const auto& b : buckets) {
      p.end_s.push_back(b.t1 - started_mono);
      p.watts.push_back(b.watts());
    }
    r.power_series.push_back(std::move(p));
  }
  std::string err = detail::write_file_atomically(path, detail::to_json(r));
  if (!err.empty()) log->err(Level::warning, "JSON summary not written: " + err, kSamplerThread);
}

// ---------------------------------------------------------------- public API

Tracker::Tracker(Options options) : impl_(std::make_unique<Impl>(std::move(options))) {
  Impl& d = *impl_;
  d.log->standard(d.opt.tool_name + " version " + kVersion);
  d.log->standard(detail::pue_line(d.opt.pue));
  d.discover();
  if (d.slots.empty()) {
    std::string msg =
        "No components were available. epochwatt measures CPUs through RAPL or an estimate, NVIDIA "
        "GPUs through NVML, AMD and Intel GPUs through hwmon, and simulated or replayed meters; "
        "run `epochwatt devices` for the reasons.";
    if (!d.opt.ignore_errors) {
      d.log->err(Level::critical, msg);
      throw Error(msg);
    }
    d.log->err(Level::critical, "Ignored error: " + msg + "\nContinued training without monitoring...");
    d.inert = true;
    d.shut_down = true;
    d.stopped = true;
    return;
  }
  std::vector<detail::ComponentDevices> segs;
  for (const auto& comp : d.components) {
    detail::ComponentDevices cd{comp, {}};
    for (const auto& s : d.slots)
      if (s.report_component == comp) cd.devices.push_back(s.info.device_name);
    if (!cd.devices.empty()) segs.push_back(std::move(cd));
  }
  std::string line = "The following components were found: " + detail::components_segments(segs);
  d.log->standard(line);
  d.log->output(line);
  for (const auto& s : d.slots)
    d.log->standard("Measuring " + s.info.device_name + " (" + std::string(to_string(s.info.component)) +
                    ") by " + std::string(to_string(s.info.method)) + " through meter " + s.info.id +
                    (s.info.detail.empty() ? "." : ": " + s.info.detail + "."));

  double t0 = d.clock->now();
  d.started_mono = t0;
  for (auto& s : d.slots) {
    s.meter->open(t0);
    s.timeline.append(t0, 0.0);
    // ~1000 buckets of at least 1 s: energy counters advance in steps (NVML's every 100 ms), so
    // shorter buckets would show the steps, not the power; a boundary's extra read folds in too.
    s.power = detail::PowerHistory(1000, std::max(1.0, 0.5 * s.period));
    s.power.add(t0, 0.0);
    s.last_good = t0;
    s.next_due = t0 + s.period;
  }
  // The offline value (fixed, cache, tables) at once; live values and IP geolocation arrive from
  // the intensity worker, so the start never waits for the network.
  d.apply_intensity(t0, d.intensity->initial());
  Location loc = d.intensity->location();
  d.log->standard("Intensity source: " + d.intensity_history.back().value.source + ", " +
                  d.intensity_history.back().value.description + "; location " + loc.address() +
                  " by rule " + loc.rule + ".");
  d.next_intensity_refresh = t0 + d.opt.intensity_refresh_s;
  d.log->standard("Monitoring thread started.");
  d.sampler = std::thread([&d] { d.run_sampler(); });
  if (d.intensity->has_background_work()) {
    d.intensity->start([&d] {
      d.intensity_ready.store(true);
      std::lock_guard lk(d.mu);
      d.wake.notify_one();
    });
    d.intensity->request_refresh();
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

void Tracker::epoch_start() {
  Impl& d = *impl_;
  if (d.foreign()) return;
  double t = d.clock->now();
  bool started = false;
  {
    std::lock_guard lk(d.mu);
    if (d.shut_down) return;
    if (!d.in_epoch) {
      d.in_epoch = true;
      d.started_epochs++;
      d.push({Impl::EventKind::start, t, d.started_epochs});
      started = true;
    }
  }
  if (started) {
    // An epoch that starts right after the previous one ended (the common case) is already
    // bracketed: every meter was read at that end, at most kStartWakeSlack ago, and will be read
    // again at the next poll; interpolating between the two misplaces at most the energy of
    // kStartWakeSlack (3 J at 300 W), against one futex wake-up saved on the caller's thread.
    // Otherwise wake the sampler for an exact boundary reading.
    double since = t - d.last_full_read.load(std::memory_order_relaxed);
    if (!(since >= 0 && since < kStartWakeSlack)) d.wake.notify_one();  // after unlocking
    return;
  }
  d.usage_error("epoch_start() called while epoch " + std::to_string(d.started_epochs) +
                " is still open; call epoch_end() first.");
}

bool Tracker::epoch_end() {
  Impl& d = *impl_;
  if (d.foreign()) return true;
  double t = d.clock->now();
  bool predicted_now = false;
  int open_epochs;
  {
    std::lock_guard lk(d.mu);
    if (d.shut_down) return true;
    open_epochs = d.started_epochs;
    if (d.in_epoch) {
      d.in_epoch = false;
      d.ended_epochs++;
      d.push({Impl::EventKind::end, t, d.started_epochs});
      predicted_now = d.ended_epochs == d.pred_after;
      if (d.ended_epochs == d.monitor_after) d.shut_down = true;
    } else {
      open_epochs = -1;
    }
  }
  if (open_epochs < 0) {
    d.usage_error("epoch_end() called without a matching epoch_start() (" +
                  std::to_string(d.ended_epochs) + " epoch(s) ended so far).");
    return true;
  }
  d.wake.notify_one();
  if (predicted_now && d.opt.stop_and_confirm) return d.confirm(*this);
  return true;
}

void Tracker::stop() {
  Impl& d = *impl_;
  if (d.foreign()) return;
  double t = d.clock->now();
  {
    std::lock_guard lk(d.mu);
    if (d.stopped) return;
    d.stopped = true;
    if (!d.shut_down) d.push({Impl::EventKind::stop, t, d.started_epochs});
    // Windows still open are measured until now; window_end() collects them later.
    for (auto& [id, w] : d.open_windows)
      if (!w.ending) {
        w.ending = w.cut = true;
        d.push({Impl::EventKind::window_end, t, 0, id});
      }
    d.shut_down = true;
    d.quit = true;
  }
  d.wake.notify_one();
  d.intensity->stop(2.0);  // a fetch in flight is abandoned: its value would come too late
  if (d.sampler.joinable()) d.sampler.join();
  d.log->flush();
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
    tracker_->impl_->log->err(Level::warning, std::string("Ignored error at the end of an epoch scope: ") + e.what());
  }
}

Tracker::WindowId Tracker::window_start(std::string name) {
  Impl& d = *impl_;
  if (d.foreign()) return 0;  // a forked child measures nothing (and must not take the mutex)
  double t = d.clock->now();
  WindowId id;
  {
    std::lock_guard lk(d.mu);
    if (d.stopped && !d.inert) throw UsageError("window_start() called after stop(); measurement windows need a running tracker.");
    id = ++d.next_window;
    d.open_windows[id] = {std::move(name), t};
    if (!d.inert) d.push({Impl::EventKind::window_start, t, 0, id});
  }
  if (!d.inert) d.wake.notify_one();
  return id;
}

WindowMeasurement Tracker::window_end(WindowId id) {
  Impl& d = *impl_;
  if (d.foreign()) return {};  // a forked child: nothing measured, no mutex taken
  double t = d.clock->now();
  std::unique_lock lk(d.mu);
  auto open = d.open_windows.find(id);
  if (d.window_results.find(id) == d.window_results.end()) {
    if (open == d.open_windows.end())
      throw UsageError("window_end(): no open measurement window with id " + std::to_string(id) + ".");
    if (d.inert) {  // nothing to measure with: the time only
      WindowMeasurement w;
      w.name = open->second.name;
      w.duration_s = t - open->second.t0;
      d.open_windows.erase(open);
      return w;
    }
    if (!open->second.ending) {  // else its end is queued already (stop(), another thread): wait
      open->second.ending = true;
      d.push({Impl::EventKind::window_end, t, 0, id});
      d.wake.notify_one();
    }
    // Woken by the sampler's post, or (if another thread collected this window) by its absence.
    d.done.wait(lk, [&] { return d.window_results.count(id) > 0 || d.open_windows.count(id) == 0; });
    if (d.window_results.count(id) == 0)
      throw UsageError("window_end(): measurement window " + std::to_string(id) + " was collected by another call.");
  }
  auto it = d.window_results.find(id);
  WindowMeasurement w = std::move(it->second);
  d.window_results.erase(it);
  return w;
}

void Tracker::flush() const {
  Impl& d = *impl_;
  if (d.foreign()) return;
  d.wake.notify_one();  // a start boundary may be queued without a wake-up (epoch_start)
  std::unique_lock lk(d.mu);
  // Every event so far processed, and every intensity round asked for so far applied.
  d.done.wait(lk, [&] { return d.processed == d.pushed && d.intensity_applied >= d.intensity->requested_rounds(); });
}

// In a forked child the accessors answer without the mutex, which the parent's sampler may have
// held at the fork: nothing measured, nothing predicted, finished.
std::optional<Consumption> Tracker::prediction() const {
  if (impl_->foreign()) return std::nullopt;
  std::lock_guard lk(impl_->mu);
  return impl_->prediction;
}

Consumption Tracker::totals() const {
  const Impl& d = *impl_;
  if (d.foreign()) return {};
  std::lock_guard lk(d.mu);
  if (d.actual) return *d.actual;
  Consumption c;
  double joules = 0;
  for (const auto& e : d.epochs)
    if (!e.interrupted) {
      c.epochs++;
      c.duration_s += e.duration_s;
      joules += e.joules;
    }
  c.energy_kwh = joules * d.opt.pue / kJoulesPerKwh;
  return c;
}

std::vector<EpochSummary> Tracker::epochs() const {
  if (impl_->foreign()) return {};
  std::lock_guard lk(impl_->mu);
  return impl_->epochs;
}

std::vector<MeterInfo> Tracker::meters() const {
  std::vector<MeterInfo> out;
  for (const auto& s : impl_->slots) out.push_back(s.info);
  return out;
}

bool Tracker::finished() const {
  if (impl_->foreign()) return true;
  std::lock_guard lk(impl_->mu);
  return impl_->shut_down;
}

std::string Tracker::standard_log_path() const { return impl_->log->files().standard; }
std::string Tracker::output_log_path() const { return impl_->log->files().output; }
std::string Tracker::error_log_path() const { return impl_->log->files().error; }
std::string Tracker::json_summary_path() const {
  return impl_->opt.json_path ? *impl_->opt.json_path
                              : (impl_->opt.write_json_summary ? impl_->log->files().json : "");
}

}  // namespace epochwatt
