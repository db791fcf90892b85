// The Tracker: epochs in, predictions and measurements out.
//
//   epochwatt::Options o; o.epochs = 100; o.log_dir = "logs";
//   epochwatt::Tracker tracker(o);   // the `epochwatt` library; with epochwatt::core alone:
//                                    // Tracker(o, parts) (TrackerParts below)
//   for (int e = 0; e < 100; ++e) {
//     auto scope = tracker.epoch();   // epoch_start() now, epoch_end() at scope exit
//     train_one_epoch();
//   }
//   tracker.stop();
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "epochwatt/intensity.hpp"
#include "epochwatt/job_report.hpp"
#include "epochwatt/options.hpp"
#include "epochwatt/reporter.hpp"
#include "epochwatt/run.hpp"

namespace epochwatt {

// Paths of the files a run writes (empty where none is written), for the accessors and the run
// model; the reporters that write them know them first.
struct RunFiles {
  std::string standard_log, output_log, error_log, json_summary;
};

// What a tracker is built from. The core tracker names no backend, no provider and no format: the
// layers above assemble these (default_tracker_parts() in epochwatt/defaults.hpp), and a caller may
// assemble its own or add to the default (a reporter of its own, a meter, an intensity source).
struct TrackerParts {
  // The meters, in report order (GPUs, then CPUs and DRAM, as carbontracker lists its components);
  // each counts in carbontracker's component of its MeterInfo::component (DRAM in "cpu"). Empty:
  // Error (or an inert tracker, with ignore_errors).
  std::vector<std::shared_ptr<Meter>> meters;
  std::vector<Message> discovery_notes;     // what discovery said, reported after the header
  // What changes what the total covers (RunDiscovery::coverage_warnings): each is reported after
  // discovery_notes as a WARNING on the err channel and kept in the run's warnings (JSON summary,
  // HTML report).
  std::vector<std::string> coverage_warnings;
  std::shared_ptr<IntensitySource> intensity;  // null: Options::intensity_g_per_kwh, else the world average
  std::vector<std::shared_ptr<Reporter>> reporters;  // every event goes to each, in order
  // stop_and_confirm's answer: the next line typed, or nullopt at the end of input. Null: the end
  // of input at once (training continues).
  std::function<std::optional<std::string>()> read_answer;
  RunFiles files;
};

// One tracked training run.
//
// Thread-safety: epoch_start(), epoch_end(), stop() and epoch() are meant for one thread, the
// training loop's; calls from several threads at once are serialised but their order is then
// yours to define. The accessors (prediction(), totals(), epochs(), flush(), ...) are safe from
// any thread at any time. On the caller's thread epoch_start()/epoch_end() only stamp the time
// and queue it: the sampler thread resolves it at its next regular round, by interpolation
// between readings (woken at once only after the prediction's epoch, the last monitored one, or a
// long queue). They read no meter and do no file or network I/O (the one exception is
// stop_and_confirm, which must ask the user and so waits for the prediction).
class Tracker {
 public:
  // Everything wired (epochwatt/defaults.hpp; defined in the `epochwatt` library, not in the core):
  // validates the options (OptionsError), discovers meters, opens the logs, chooses the intensity
  // source and starts the sampler. Throws Error when no component can be measured.
  explicit Tracker(Options options);
  // The core alone: validates the options (OptionsError) and starts the sampler on the parts
  // given. Throws Error when parts.meters is empty, and what fails while starting (a meter's
  // open()); with ignore_errors both are logged and the tracker is inert (its calls do nothing).
  Tracker(Options options, TrackerParts parts);
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
  // window_start() after stop(); with ignore_errors these are logged instead, window_start()
  // returns 0 and window_end() an empty measurement. In a forked child, window_start() returns 0 and window_end()
  // an empty measurement.
  using WindowId = std::uint64_t;
  WindowId window_start(std::string name = "");
  WindowMeasurement window_end(WindowId id);

  // Wait until every epoch boundary so far has been measured and reported, and every intensity
  // round asked for so far (a live fetch in flight included) has been applied.
  void flush() const;
  // Wait until every epoch boundary so far has been measured and reported (the sampler's
  // reading, about one meter period at most), but not for an intensity fetch: what the job-wide
  // reduction needs before rank_epoch(), which holds no intensity. No-op when inert or forked.
  void flush_measurements() const;
  // The newest prediction of the whole run, remade after every epoch (none before the first epoch
  // ends, nor with epochs_before_pred = 0); latest_prediction() adds how it was made and its range.
  // The Predicted block printed after epochs_before_pred epochs is Run::prediction.
  std::optional<Consumption> prediction() const;
  std::optional<Prediction> latest_prediction() const;
  // The set-up: from the tracker's construction to the first epoch_start() (or to stop(), if no
  // epoch started); nullopt before then. Included in totals().
  std::optional<Setup> setup() const;
  // The measured footprint of the set-up and the epochs that have ended (and been measured) so far: the same
  // figures as the run snapshot of the last epoch end, and the actual once the run is over.
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

  // ---- job-wide reduction (epochwatt/job_report.hpp, docs/cluster.md) ----
  // This rank's record for rank 0: its rank and node, its newest measured epoch's time and energy
  // by component, its set-up and its totals so far (the figures of totals(), IT energy). Reads
  // what the sampler has resolved, without waiting: call flush() first where the newest epoch
  // must be in it (stop() resolves everything). `finished` is left 0: the caller sets it on the
  // last record. Cheap (a lock and O(meters)); no meter read, no I/O. A forked child or an
  // inert tracker gives a record with its rank, nothing measured and `inert` = 1.
  RankEpoch rank_epoch() const;
  // Rank 0: the whole job's Predicted block (stage predicted: predict_run over the job's epochs
  // 1..epochs_before_pred with this tracker's rule, planned epochs and PUE, at this rank's
  // predicted intensity) or Actual block (stage actual: the sum of every rank's total, at this
  // rank's actual intensity), sent to the reporters (Reporter::job_reported) from the calling
  // thread. Returns what was reported. Call it from the training loop's thread.
  JobFootprint report_job(const JobReport& job, JobReport::Stage stage);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace epochwatt
