// The sampler: one thread that wakes when a meter is due, when a caller waits for a boundary
// (flush, window end, stop), when the queue of boundaries is long, or when the intensity source
// posts a value, and reads the meters into their timelines (MeterSet). Epoch boundaries do not
// wake it: they wait in the queue for the next regular round, which reads every meter that has
// no reading after them, so each boundary lies between two readings of every meter and is
// resolved by linear interpolation (docs/performance.md, "Sampler CPU and the caller's cost").
// After each round's reads it hands the round's boundaries to its client (the tracker), which
// accounts for them and fans the results out.
//
// The adaptive period (docs/performance.md, "Sampler CPU: the adaptive period (issue 13)"): after
// kQuietAfterS without a boundary the sampler is quiet: meters cumulative between reads
// (core/linear_meter.hpp) are read at their quiet period (MeterSet::kQuietPeriodS) instead of
// their period. The first boundary queued while the sampler sleeps longer than its shortest
// period past that boundary wakes it (push_locked() says so), and that round reads every meter
// right after the boundary; the sampler is attentive again. So every boundary still has a reading
// within one (attentive) period after it, as before, and a quiet sampler costs the caller one
// wake-up per quiet spell.
//
// The mutex is shared with the client: the caller's thread stamps boundaries under it, and the
// client keeps its caller-visible state under it. Neither the client's round handler nor anything
// on the sampler thread may hold it while doing I/O.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <limits>
#include <mutex>
#include <thread>

#include "core/meter_set.hpp"
#include "epochwatt/clock.hpp"

namespace epochwatt::detail {

// A time the caller stamped, for the sampler to measure.
struct Boundary {
  enum class Kind { epoch_start, epoch_end, stop, window_start, window_end };
  Kind kind;
  double t;
  int epoch;                 // the epoch's 1-based index (epoch kinds, stop: the last started)
  std::uint64_t window = 0;  // the window's id (window kinds)
};

class Sampler {
 public:
  // The client's part of a round: `t` is the round's time (every meter was read at it when the
  // batch is not empty); `intensity_posted`: the intensity source posted since the last round.
  // Returns the time before which no timeline point is needed any more.
  using RoundHandler = std::function<double(double t, const std::deque<Boundary>& batch, bool intensity_posted)>;
  using ErrorHandler = std::function<void(const std::string& what)>;

  Sampler(std::shared_ptr<Clock> clock, MeterSet& meters, double update_interval_s, MeterSet::Warn warn);
  // Ends the thread (as a last round) if it still runs, and joins it.
  ~Sampler();
  Sampler(const Sampler&) = delete;
  Sampler& operator=(const Sampler&) = delete;

  void start(RoundHandler on_round, ErrorHandler on_error);

  std::mutex& mutex() const { return mu_; }
  // Queue a boundary; the caller holds mutex(). Does not wake the sampler (wake() does); returns
  // true when the queue holds kWakeAtQueued boundaries or more, or when the sampler is quiet and
  // would sleep more than its shortest meter period past b.t (the first boundary of a quiet
  // spell), so the caller should wake it.
  bool push_locked(const Boundary& b);
  // Seconds without a boundary after which the sampler goes quiet: a choice of epochwatt, longer
  // than the gaps of a loop that validates or checkpoints between epochs (the caller's benchmark
  // takes 2 s), so that such a loop never pays a wake-up; at most one wake-up, a futex call of a
  // few microseconds, per 10 s of the caller's time otherwise.
  static constexpr double kQuietAfterS = 10.0;
  // The sampler's next sleep, decided at `now` (lock on mutex() held; the sampler thread, or a
  // test on a sampler not started): quiet when no boundary is queued, none came within
  // kQuietAfterS, and some meter has a longer quiet period. Returns the seconds to wait; the
  // next round reads at quiet periods when quiet_locked().
  double plan_wait_locked(double now);
  // The last plan was quiet / its sleep ends later than a non-quiet one (lock held).
  bool quiet_locked() const { return quiet_; }
  bool stretched_locked() const { return stretched_; }
  // The sampler is awake for a round (lock held; the sampler thread, or a test on a sampler not
  // started): takes the queued boundaries; those queued from now on wait for its next round.
  std::deque<Boundary> take_batch_locked();
  // Queued boundaries at which push_locked() asks for a wake-up: bounds the queue (32 B each)
  // when epochs come faster than the sampler's rounds, at one wake-up per 512 epochs.
  static constexpr std::size_t kWakeAtQueued = 1024;
  // Start a round now (flush, windows, stop, the prediction's epoch, a long queue). Boundaries
  // queued without it wait for the next regular round: a queue that is merely not empty does not
  // end the sampler's sleep, or epochs shorter than a round would keep it reading back to back.
  void wake() {
    {
      std::lock_guard lk(mu_);
      wake_requested_ = true;
    }
    wake_.notify_one();
  }
  // The same, for a caller that holds mutex().
  void wake_locked() {
    wake_requested_ = true;
    wake_.notify_one();
  }
  // The intensity source posted a value: wake for it. Any thread.
  void intensity_posted();
  // Make this the last round; the caller holds mutex().
  void quit_locked() { quit_ = true; }
  void join();
  bool joinable() const { return thread_.joinable(); }
  // Waits (lock on mutex() held) until every queued boundary is handled and `also` holds.
  void wait_idle(std::unique_lock<std::mutex>& lk, const std::function<bool()>& also) const;
  // Waits (lock held) until `ready` holds, re-checked after each round.
  void wait_round(std::unique_lock<std::mutex>& lk, const std::function<bool()>& ready) const;
  // Wakes every waiter of wait_idle/wait_round (after the client changed what they wait for).
  void notify_waiters() const { done_.notify_all(); }

 private:
  void loop();

  std::shared_ptr<Clock> clock_;
  MeterSet& meters_;
  double update_interval_s_;
  MeterSet::Warn warn_;
  RoundHandler on_round_;
  ErrorHandler on_error_;

  mutable std::mutex mu_;
  std::condition_variable wake_;
  mutable std::condition_variable done_;
  std::deque<Boundary> pending_;            // under mu_
  std::uint64_t pushed_ = 0, processed_ = 0;  // under mu_
  bool quit_ = false;                       // under mu_
  bool wake_requested_ = false;             // under mu_
  // The adaptive period, under mu_ (plan_wait_locked, push_locked).
  double last_boundary_ = -std::numeric_limits<double>::infinity();  // latest boundary queued
  bool quiet_ = false;      // the planned round reads at quiet periods
  bool stretched_ = false;  // ... and the sleep before it is longer than a non-quiet one
  double wake_at_ = 0.0;    // when that sleep ends
  double attentive_s_ = 0.0;  // the meters' shortest period when it was planned
  std::atomic<bool> intensity_ready_{false};
  std::thread thread_;
};

}  // namespace epochwatt::detail
