#include "core/sampler.hpp"

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <exception>
#include <limits>

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

bool Sampler::push_locked(const Boundary& b) {
  ++pushed_;
  pending_.push_back(b);
  return pending_.size() >= kWakeAtQueued;
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
    bool quitting;
    {
      std::unique_lock lk(mu_);
      double wait_s = meters_.wait_s(clock_->now(), update_interval_s_);
      wake_.wait_for(lk, std::chrono::duration<double>(wait_s),
                     [&] {
                       return quit_ || wake_requested_ || pending_.size() >= kWakeAtQueued ||
                              intensity_ready_.load();
                     });
      wake_requested_ = false;
      batch.swap(pending_);
      quitting = quit_;
    }
    double t = clock_->now();  // this round's time
    // The boundaries were stamped before this round: every meter without a reading at or after
    // the latest of them is read now, besides the meters that are due, so each boundary lies
    // between two readings of every meter.
    double cover_t = -std::numeric_limits<double>::infinity();
    for (const auto& b : batch) cover_t = std::max(cover_t, b.t);
    try {
      meters_.read(t, cover_t, warn_);
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
    if (quitting) return;
  }
}

}  // namespace epochwatt::detail
