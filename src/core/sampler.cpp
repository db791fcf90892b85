#include "core/sampler.hpp"

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <exception>
#include <limits>

#include "core/closing_meter.hpp"

namespace epochwatt::detail {

Sampler::Sampler(std::shared_ptr<Clock> clock, MeterSet& meters, double update_interval_s, MeterSet::Warn warn)
    : clock_(std::move(clock)), meters_(meters), update_interval_s_(update_interval_s), warn_(std::move(warn)) {}

Sampler::~Sampler() {
  {
    std::lock_guard lk(mu_);
    quit_ = true;  // a tracker that failed after start(), or one never stopped: end the thread
  }
  wake_.notify_one();
  join();
}

void Sampler::start(RoundHandler on_round, ErrorHandler on_error) {
  on_round_ = std::move(on_round);
  on_error_ = std::move(on_error);
  thread_ = std::thread([this] { loop(); });
}

[[gnu::hot]] bool Sampler::push_locked(const Boundary& b) {  // on the caller's path (tracker.cpp)
  ++pushed_;
  pending_.push_back(b);
  last_boundary_ = std::max(last_boundary_, b.t);
  if (stretched_ && b.t + attentive_s_ < wake_at_) {
    stretched_ = false;  // one wake-up per quiet spell: the boundaries after it wait for its round
    return true;
  }
  return pending_.size() >= kWakeAtQueued;
}

std::deque<Boundary> Sampler::take_batch_locked() {
  wake_requested_ = false;
  stretched_ = false;  // awake: boundaries from now on wait for this round or the next
  std::deque<Boundary> batch;
  batch.swap(pending_);
  return batch;
}

double Sampler::plan_wait_locked(double now) {
  quiet_ = pending_.empty() && now - last_boundary_ >= kQuietAfterS && meters_.can_go_quiet();
  double attentive = meters_.wait_s(now, update_interval_s_);
  double w = quiet_ ? meters_.wait_s(now, std::max(update_interval_s_, MeterSet::kQuietPeriodS), true) : attentive;
  stretched_ = quiet_ && w > attentive;
  wake_at_ = now + w;
  attentive_s_ = meters_.shortest_period();
  return w;
}

void Sampler::intensity_posted() {
  intensity_ready_.store(true);
  std::lock_guard lk(mu_);
  wake_.notify_one();
}

void Sampler::join() {
  if (thread_.joinable()) thread_.join();
}

void Sampler::wait_idle(std::unique_lock<std::mutex>& lk, const std::function<bool()>& also) const {
  done_.wait(lk, [&] { return processed_ == pushed_ && also(); });
}

void Sampler::wait_round(std::unique_lock<std::mutex>& lk, const std::function<bool()>& ready) const {
  done_.wait(lk, ready);
}

void Sampler::loop() {
  // SCHED_BATCH: ordinary time-sharing without wakeup preemption. Woken by a caller (flush, a
  // window's end, stop), the sampler then waits for a free CPU instead of taking the caller's,
  // which cut the caller's cost of an epoch_start + epoch_end pair, when both still woke it, from
  // ~19 us to ~5 us on a 2-vCPU VM (docs/performance.md). Failure to set it is harmless.
  sched_param param{};
  param.sched_priority = 0;
  (void)pthread_setschedparam(pthread_self(), SCHED_BATCH, &param);
  for (;;) {
    std::deque<Boundary> batch;
    bool quitting, quiet;
    {
      std::unique_lock lk(mu_);
      double wait_s = plan_wait_locked(clock_->now());
      wake_.wait_for(lk, std::chrono::duration<double>(wait_s),
                     [&] {
                       return quit_ || wake_requested_ || pending_.size() >= kWakeAtQueued ||
                              intensity_ready_.load();
                     });
      quiet = quiet_;
      batch = take_batch_locked();
      quitting = quit_;
    }
    double t = clock_->now();  // this round's time
    // The boundaries were stamped before this round: every meter without a reading at or after
    // the latest of them is read now, besides the meters that are due, so each boundary lies
    // between two readings of every meter.
    double cover_t = -std::numeric_limits<double>::infinity();
    for (const auto& b : batch) cover_t = std::max(cover_t, b.t);
    try {
      meters_.read(t, cover_t, warn_, quiet);
    } catch (const std::exception& e) {
      on_error_(e.what());  // never let an error escape the sampler: keep measuring
    } catch (...) {
      on_error_("unknown exception");
    }
    try {
      double keep_from = on_round_(t, batch, intensity_ready_.exchange(false));
      meters_.forget_before(keep_from);
    } catch (const std::exception& e) {
      on_error_(e.what());
    } catch (...) {
      on_error_("unknown exception");
    }
    {
      std::lock_guard lk(mu_);
      processed_ += batch.size();
    }
    done_.notify_all();
    if (quitting) {
      // After the last round: meters that hold something others wait for (the node election's
      // claims) let it go now, not when the tracker object is destroyed (core/closing_meter.hpp).
      double end_t = clock_->now();
      for (const auto& slot : meters_.slots()) close_if_marked(slot.meter, end_t);
      return;
    }
  }
}

}  // namespace epochwatt::detail
