// The Tracker: epochs in, predictions and measurements out.
//
//   epochwatt::Options o; o.epochs = 100; o.log_dir = "logs";
//   epochwatt::Tracker tracker(o);
//   for (int e = 0; e < 100; ++e) {
//     auto scope = tracker.epoch();   // epoch_start() now, epoch_end() at scope exit
//     train_one_epoch();
//   }
//   tracker.stop();
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "epochwatt/options.hpp"

namespace epochwatt {

// Figures of a prediction or of a measured run. Energy includes PUE; CO2 uses the intensity.
struct Consumption {
  int epochs = 0;             // epochs predicted for, or epochs that ended
  double duration_s = 0.0;
  double energy_kwh = 0.0;    // x PUE
  double co2_g = 0.0;
  double intensity_g_per_kwh = 0.0;
  std::string intensity_source;  // e.g. "embedded-table", "world-average", "fixed"
  bool intensity_forecast = false;
  double km_by_car = 0.0;     // co2_g / 106.8 (EEA 2024)
};

// Energy of one device in one epoch.
struct DeviceEnergy {
  std::string meter_id;
  std::string device_name;
  Component component = Component::cpu;
  Method method = Method::simulated;
  double joules = 0.0;  // without PUE
  bool complete = true; // false: the meter failed or vanished inside this epoch
};

struct EpochSummary {
  int index = 0;            // 1-based
  double duration_s = 0.0;
  double joules = 0.0;      // sum over devices, without PUE
  std::vector<DeviceEnergy> devices;
  bool interrupted = false; // still open at stop(); not counted in totals
};

// The energy of a measurement window (Tracker::window_start/window_end): any stretch of code, in
// or between epochs, measured from the tracker's own meters and sampler.
struct WindowMeasurement {
  std::string name;
  double duration_s = 0.0;
  double joules = 0.0;                // IT energy: sum over devices, without PUE
  std::vector<DeviceEnergy> devices;  // one per meter, in the order of meters()
  double energy_kwh = 0.0;            // facility energy: joules x PUE / 3.6e6
  double co2_g = 0.0;                 // each intensity value weighted by the energy drawn while it held
  double intensity_g_per_kwh = 0.0;   // co2_g / energy_kwh (the current value when no energy was drawn)
  bool cut_by_stop = false;           // the tracker stopped first: measured until stop()
};

// One tracked training run.
//
// Thread-safety: epoch_start(), epoch_end(), stop() and epoch() are meant for one thread, the
// training loop's; calls from several threads at once are serialised but their order is then
// yours to define. The accessors (prediction(), totals(), epochs(), flush(), ...) are safe from
// any thread at any time. On the caller's thread epoch_start()/epoch_end() only stamp the time
// and wake the sampler thread: they read no meter and do no file or network I/O (the one
// exception is stop_and_confirm, which must ask the user and so waits for the prediction).
class Tracker {
 public:
  // Validates the options (OptionsError), discovers meters, opens the logs and starts the
  // sampler. Throws Error when no component can be measured.
  explicit Tracker(Options options);
  // Stops the run if stop() was not called, so nothing measured is lost. Never throws. In a child
  // made by fork() (a DataLoader worker), where the sampler thread does not exist, the destructor
  // and every method do nothing: only the process that built the tracker reports.
  ~Tracker();
  Tracker(const Tracker&) = delete;
  Tracker& operator=(const Tracker&) = delete;

  void epoch_start();
  // Ends the current epoch. Returns false when training should stop: the user answered "n" to
  // stop_and_confirm. Throws UsageError without a matching epoch_start() (unless ignore_errors).
  bool epoch_end();
  // Ends monitoring: counts only the epochs that ended, writes the actual report. Idempotent.
  void stop();

  // RAII epoch: epoch_start() on construction, epoch_end() on destruction (errors logged, never
  // thrown from the destructor). Not copyable; movable. end() ends it early and returns
  // epoch_end()'s answer (false: training should stop), which the destructor cannot return.
  class EpochScope {
   public:
    explicit EpochScope(Tracker& t);
    EpochScope(EpochScope&& other) noexcept;
    EpochScope(const EpochScope&) = delete;
    EpochScope& operator=(const EpochScope&) = delete;
    EpochScope& operator=(EpochScope&&) = delete;
    ~EpochScope();
    // epoch_end() now (it may throw, as epoch_end() does); later calls and the destructor do
    // nothing and return true.
    bool end();

   private:
    Tracker* tracker_;
  };
  [[nodiscard]] EpochScope epoch() { return EpochScope(*this); }

  // Measurement windows: any number may be open at once, nested or overlapping, from any thread.
  // window_start() only stamps the time (like epoch_start); window_end() waits for the sampler's
  // reading at its end (about one meter read) and returns the window's figures. A window still
  // open at stop() is measured until stop(), and window_end() then returns that. Throws
  // UsageError for an id that is not open (or that another call already collected), and for
  // window_start() after stop(). In a forked child, window_start() returns 0 and window_end()
  // an empty measurement.
  using WindowId = std::uint64_t;
  WindowId window_start(std::string name = "");
  WindowMeasurement window_end(WindowId id);

  // Wait until every epoch boundary so far has been measured and reported.
  void flush() const;
  // The prediction, once epochs_before_pred epochs have ended.
  std::optional<Consumption> prediction() const;
  // Measured totals over the epochs that have ended (and been measured) so far.
  Consumption totals() const;
  std::vector<EpochSummary> epochs() const;
  // The meters in use: id, component, device, method.
  std::vector<MeterInfo> meters() const;
  // True once the run has shut down (monitor_epochs reached, stop(), or user quit).
  bool finished() const;
  // Paths of the files written (empty without log_dir).
  std::string standard_log_path() const;
  std::string output_log_path() const;
  std::string error_log_path() const;
  std::string json_summary_path() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace epochwatt
