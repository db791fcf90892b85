// Time sources used by the tracker. Injectable so that tests can drive exact epoch bounds.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>

namespace epochwatt {

// A clock gives two times: a monotonic one for intervals (seconds, arbitrary origin) and the
// wall-clock time used only for time stamps in reports.
// Thread-safety: implementations must be safe to call from any thread concurrently.
class Clock {
 public:
  virtual ~Clock() = default;
  // Monotonic seconds; only differences are meaningful.
  virtual double now() const = 0;
  // Wall-clock time matching now(), for time stamps.
  virtual std::chrono::system_clock::time_point wall() const = 0;
};

// The process's steady_clock and system_clock. Shared singleton; thread-safe.
std::shared_ptr<Clock> system_clock();

// A clock that moves only when told to; for tests and replays. Thread-safe (atomic).
class ManualClock final : public Clock {
 public:
  explicit ManualClock(double start_s = 0.0,
                       std::chrono::system_clock::time_point wall_origin =
                           std::chrono::system_clock::time_point{std::chrono::seconds{1735689600}})
      : now_(start_s), wall_origin_(wall_origin) {}
  double now() const override { return now_.load(); }
  std::chrono::system_clock::time_point wall() const override {
    return wall_origin_ + std::chrono::duration_cast<std::chrono::system_clock::duration>(
                              std::chrono::duration<double>(now_.load()));
  }
  void set(double t) { now_.store(t); }
  void advance(double dt) {
    double cur = now_.load();
    while (!now_.compare_exchange_weak(cur, cur + dt)) {
    }
  }

 private:
  std::atomic<double> now_;
  std::chrono::system_clock::time_point wall_origin_;
};

}  // namespace epochwatt
