// Benchmarks of the tracker's hot paths. Run through bench/run.sh, which asks for 10 repetitions
// and reports medians; docs/performance.md holds the figures and the command.
//
//   BM_EpochStartEnd            caller-thread cost of one epoch_start() + epoch_end() pair, back to
//                               back, while the sampler thread drains the boundaries concurrently
//   BM_EpochStartEnd_Idle/*     the same pair as a real loop sees it: the sampler is asleep before
//                               each call (manual timing), the calls 0.2 ms, 20 ms or 2 s after it
//                               went to sleep; `library` as the library runs it,
//                               `sampler_sched_other` with the sampler moved back to SCHED_OTHER, as
//                               before commit 6ac4345 (since issue 13 the calls wake no one)
//   BM_SamplerPerEpoch          the sampler's work per epoch (start + end): accounting, reporting
//   BM_SamplerRound8Meters      one sampler round over 8 simulated meters: read each meter and
//                               append to its timeline, as Tracker::Impl::read_meters does
//   BM_TimelineEnergyAt/N       energy_at() interpolation on a timeline of N points
//   BM_Baseline_*               what a system call and a condition-variable wake cost here, and
//                               BM_Baseline_ColdPair/*: the floor of the idle pair without the library
//
// This file may use library internals (src/): the sampler is not public.
#include <benchmark/benchmark.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <ostream>
#include <random>
#include <set>
#include <streambuf>
#include <string>
#include <thread>
#include <vector>

#include "core/timeline.hpp"
#include "epochwatt/epochwatt.hpp"
#include "meters/simulated/simulated.hpp"

namespace {

// An ostream that discards everything: console output must not dominate the figures.
class NullBuffer final : public std::streambuf {
 protected:
  int overflow(int c) override { return traits_type::not_eof(c); }
  std::streamsize xsputn(const char*, std::streamsize n) override { return n; }
};

struct NullStream {
  NullBuffer buffer;
  std::ostream stream{&buffer};
};

// A live tracker that never shuts down on its own: simulated CPU and GPU, console only.
epochwatt::Options live_options(std::ostream* console) {
  epochwatt::Options o;
  o.epochs = INT_MAX;
  o.sim_cpu = "bench-cpu";
  o.sim_cpu_tdp = 65.0;
  o.sim_gpu = "bench-gpu";
  o.sim_gpu_watts = 300.0;
  o.country = "DK";  // embedded table: no provider notes beyond the first
  o.offline = true;  // no live provider: nothing here may depend on the network
  o.live_providers = {"none"};
  o.console = console;
  o.verbose = 0;
  o.discover_meters = false;
  return o;
}

// (a) Back to back. Each pair takes the tracker's mutex twice, queues two events and notifies the
// sampler twice; the sampler, on the other core, takes the same mutex to collect them. It falls
// behind (it formats and accounts each epoch) and so is almost never asleep: the notifications
// find no waiter and cost no system call. The figure is the cost of the calls' own work under
// mutex contention, a lower bound for a real loop, where every call wakes the sampler; see (a').
void BM_EpochStartEnd(benchmark::State& state) {
  NullStream null;
  epochwatt::Tracker tracker(live_options(&null.stream));
  for (auto _ : state) {
    tracker.epoch_start();
    benchmark::DoNotOptimize(tracker.epoch_end());
  }
  tracker.stop();  // after the loop, so outside the timing: the sampler's backlog is drained here
}
// A fixed count: the caller queues back-to-back epochs far faster than the sampler accounts them
// (BM_SamplerPerEpoch: tens of µs each, the prediction over its 1000-epoch window), and stop()
// drains what is queued; an open-ended loop of millions of pairs left minutes of backlog.
BENCHMARK(BM_EpochStartEnd)->Unit(benchmark::kNanosecond)->UseRealTime()->Iterations(100000);

// (a'') The sampler's side of a boundary: 1000 back-to-back epochs, then flush() until the
// sampler has accounted and reported all of them (console discarded, no log files). The time per
// epoch is the sampler's work per start + end pair; it is also what the sampler runs on the
// training thread's core when it preempts it (see BM_EpochStartEnd_Idle).
void BM_SamplerPerEpoch(benchmark::State& state) {
  NullStream null;
  epochwatt::Tracker tracker(live_options(&null.stream));
  constexpr int kEpochs = 1000;
  for (auto _ : state) {
    for (int i = 0; i < kEpochs; ++i) {
      tracker.epoch_start();
      benchmark::DoNotOptimize(tracker.epoch_end());
    }
    tracker.flush();
  }
  state.counters["per_epoch"] = benchmark::Counter(static_cast<double>(state.iterations()) * kEpochs,
                                                   benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  tracker.stop();
}
BENCHMARK(BM_SamplerPerEpoch)->Unit(benchmark::kMicrosecond)->UseRealTime();

// The ids of this process's threads (Linux: /proc/self/task).
std::set<pid_t> thread_ids() {
  std::set<pid_t> ids;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/task", ec))
    ids.insert(static_cast<pid_t>(std::stol(entry.path().filename().string())));
  return ids;
}

// Moves the threads that are not in `before` (the tracker's sampler) to SCHED_OTHER. Since commit
// 6ac4345 the sampler runs under SCHED_BATCH (time-sharing minus wakeup preemption: woken, it does
// not take the CPU of the thread that woke it); this undoes that, to show what it saves.
void move_new_threads_to_sched_other(const std::set<pid_t>& before) {
  for (pid_t tid : thread_ids()) {
    if (before.count(tid)) continue;
    sched_param param{};
    if (::sched_setscheduler(tid, SCHED_OTHER, &param) != 0) std::perror("sched_setscheduler(SCHED_OTHER)");
  }
}

// (a') The pair as a training loop sees it, where epochs last seconds: before each call the
// sampler has processed every boundary and gone back to sleep on its condition variable (the
// back-to-back case keeps it busy instead). Manual timing: the iteration time is the sum of the
// two calls, without the flush() and the sleep that prepare each one.
// With sampler_sched_other the sampler runs under SCHED_OTHER, as before commit 6ac4345.
//
// gap_us is the time between the sampler going to sleep and each call: 0.2 ms (`library`, epochs
// back to back), 20 ms (`library_gap_20ms`: a loop that validates or logs between epochs) and 2 s
// (`library_gap_2s`: checkpoints; 3 iterations of 3 repetitions, each takes 4 s). Until issue 13
// each call woke the sleeping sampler (a futex wake-up, dearer after a longer gap, when the
// sampler's CPU has gone idle); since then neither call wakes it.
void BM_EpochStartEnd_Idle(benchmark::State& state, bool sampler_sched_other, int gap_us) {
  NullStream null;
  const auto before = thread_ids();
  epochwatt::Tracker tracker(live_options(&null.stream));
  if (sampler_sched_other) {
    // Once the sampler has set its own policy (at the start of its loop): one epoch, flushed.
    tracker.epoch_start();
    tracker.epoch_end();
    tracker.flush();
    move_new_threads_to_sched_other(before);
  }
  auto until_sampler_sleeps = [&tracker](int us) {
    tracker.flush();                                              // every boundary processed
    std::this_thread::sleep_for(std::chrono::microseconds(us));  // ... and the sampler waits again
  };
  std::vector<double> pair_ns;  // per iteration: the mean hides one preemption in 200 pairs
  for (auto _ : state) {
    until_sampler_sleeps(gap_us);
    auto t0 = std::chrono::steady_clock::now();
    tracker.epoch_start();
    auto t1 = std::chrono::steady_clock::now();
    until_sampler_sleeps(gap_us);
    auto t2 = std::chrono::steady_clock::now();
    bool go_on = tracker.epoch_end();
    auto t3 = std::chrono::steady_clock::now();
    benchmark::DoNotOptimize(go_on);
    double pair = std::chrono::duration<double>((t1 - t0) + (t3 - t2)).count();
    state.SetIterationTime(pair);
    pair_ns.push_back(pair * 1e9);
  }
  tracker.stop();
  // The median pair and the 90th percentile, beside Google Benchmark's mean ("Time").
  std::sort(pair_ns.begin(), pair_ns.end());
  if (!pair_ns.empty()) {
    state.counters["median_ns"] = pair_ns[pair_ns.size() / 2];
    state.counters["p90_ns"] = pair_ns[pair_ns.size() * 9 / 10];
  }
}
BENCHMARK_CAPTURE(BM_EpochStartEnd_Idle, library, false, 200)
    ->Unit(benchmark::kNanosecond)->UseManualTime()->Iterations(2000);
BENCHMARK_CAPTURE(BM_EpochStartEnd_Idle, library_gap_20ms, false, 20000)
    ->Unit(benchmark::kNanosecond)->UseManualTime()->Iterations(200);
BENCHMARK_CAPTURE(BM_EpochStartEnd_Idle, library_gap_2s, false, 2000000)
    ->Unit(benchmark::kNanosecond)->UseManualTime()->Iterations(3)->Repetitions(3);
BENCHMARK_CAPTURE(BM_EpochStartEnd_Idle, sampler_sched_other, true, 200)
    ->Unit(benchmark::kNanosecond)->UseManualTime()->Iterations(2000);

// (b) Mirror of Tracker::Impl::Slot and Tracker::Impl::read_meters (src/core/tracker.cpp, as of
// "Stamp each meter reading with its own time"), minus the warning path, which a healthy meter
// never takes. Keep it in step with the library when read_meters changes.
struct Slot {
  std::shared_ptr<epochwatt::Meter> meter;
  epochwatt::detail::Timeline timeline;
  double period = 1.0;
  double next_due = 0.0;
  bool lost = false;
  double last_good = 0.0;
};

void read_meters(const epochwatt::Clock& clock, std::vector<Slot>& slots, double round_t, bool all) {
  for (auto& s : slots) {
    if (s.lost || (!all && round_t < s.next_due)) continue;
    double t = slots.size() > 1 ? clock.now() : round_t;  // each reading stamped with its own time
    s.next_due = t + s.period;
    epochwatt::MeterReading r;
    try {
      r = s.meter->read(t);
    } catch (const std::exception& e) {
      r.ok = false;
      r.error = e.what();
    }
    if (r.ok || r.lost) s.timeline.append(t, std::isfinite(r.joules) ? r.joules : s.timeline.back().joules);
    if (r.ok && !r.lost) s.last_good = t;
    if (r.lost) s.lost = true;
  }
}

// One round = the round's clock read (run_sampler reads the clock once per round) + read_meters
// over 8 meters with all = true (a boundary round: every meter is read, each with its own clock
// read). Timelines are trimmed every 1024 rounds outside the timing, as the sampler trims them
// after each round.
void BM_SamplerRound8Meters(benchmark::State& state) {
  auto clock = epochwatt::system_clock();
  std::vector<Slot> slots(8);
  double t0 = clock->now();
  for (std::size_t i = 0; i < slots.size(); ++i) {
    auto component = i % 2 == 0 ? epochwatt::Component::gpu : epochwatt::Component::cpu;
    slots[i].meter = epochwatt::meters::make_simulated_meter(component, "sim" + std::to_string(i), 100.0 + 10.0 * i);
    slots[i].meter->open(t0);
    slots[i].timeline.append(t0, 0.0);
    slots[i].last_good = t0;
  }
  std::size_t rounds = 0;
  for (auto _ : state) {
    read_meters(*clock, slots, clock->now(), true);
    if (++rounds % 1024 == 0) {
      state.PauseTiming();
      for (auto& s : slots) s.timeline.forget_before(s.timeline.back().t);
      state.ResumeTiming();
    }
  }
  benchmark::DoNotOptimize(slots.front().timeline.back().joules);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * 8);  // meter reads
}
BENCHMARK(BM_SamplerRound8Meters)->Unit(benchmark::kNanosecond);

// (c) energy_at() at random times inside a timeline of N points one second apart (a 1 s poll
// period: N = 3600 is one meter over a one-hour epoch).
void BM_TimelineEnergyAt(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  epochwatt::detail::Timeline timeline;
  for (std::size_t i = 0; i < n; ++i) timeline.append(static_cast<double>(i), 150.0 * static_cast<double>(i));
  std::mt19937_64 rng(1);
  std::uniform_real_distribution<double> when(0.0, static_cast<double>(n - 1));
  std::vector<double> queries(4096);
  for (auto& q : queries) q = when(rng);
  std::size_t k = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(timeline.energy_at(queries[k]));
    k = (k + 1) & (queries.size() - 1);
  }
}
BENCHMARK(BM_TimelineEnergyAt)->Arg(2)->Arg(64)->Arg(3600)->Arg(86400)->Unit(benchmark::kNanosecond);

// (d) Baselines that explain (a'): the machine's price for a system call, and for waking a thread
// asleep on a condition variable, the one thing epoch_start()/epoch_end() must do besides
// stamping the time. Same protocol as (a'): the waiter is asleep before each notify.
void BM_Baseline_Syscall(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(::syscall(SYS_getppid));
}
BENCHMARK(BM_Baseline_Syscall)->Unit(benchmark::kNanosecond);

// The floor of the caller's pair after a gap, without the library: the least a queued boundary
// needs (a steady-clock read, a mutex locked and unlocked, 32 bytes pushed onto a deque), twice,
// each after the same sleep as in BM_EpochStartEnd_Idle; timed the same way (median and 90th
// percentile per pair). What BM_EpochStartEnd_Idle costs beyond this is the library's.
void BM_Baseline_ColdPair(benchmark::State& state, int gap_us) {
  struct Stamp {
    double t;
    int kind, epoch;
    std::uint64_t window;
  };
  std::mutex mu;
  std::deque<Stamp> queue;
  int epoch = 0;
  auto stamp = [&] {
    double t = std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
    std::lock_guard lk(mu);
    queue.push_back({t, 0, ++epoch, 0});
  };
  std::vector<double> pair_ns;
  for (auto _ : state) {
    queue.clear();
    std::this_thread::sleep_for(std::chrono::microseconds(gap_us));
    auto t0 = std::chrono::steady_clock::now();
    stamp();
    auto t1 = std::chrono::steady_clock::now();
    std::this_thread::sleep_for(std::chrono::microseconds(gap_us));
    auto t2 = std::chrono::steady_clock::now();
    stamp();
    auto t3 = std::chrono::steady_clock::now();
    double pair = std::chrono::duration<double>((t1 - t0) + (t3 - t2)).count();
    state.SetIterationTime(pair);
    pair_ns.push_back(pair * 1e9);
  }
  std::sort(pair_ns.begin(), pair_ns.end());
  if (!pair_ns.empty()) {
    state.counters["median_ns"] = pair_ns[pair_ns.size() / 2];
    state.counters["p90_ns"] = pair_ns[pair_ns.size() * 9 / 10];
  }
}
BENCHMARK_CAPTURE(BM_Baseline_ColdPair, gap_200us, 200)->Unit(benchmark::kNanosecond)->UseManualTime()->Iterations(2000);
BENCHMARK_CAPTURE(BM_Baseline_ColdPair, gap_20ms, 20000)->Unit(benchmark::kNanosecond)->UseManualTime()->Iterations(200);
BENCHMARK_CAPTURE(BM_Baseline_ColdPair, gap_2s, 2000000)
    ->Unit(benchmark::kNanosecond)->UseManualTime()->Iterations(3)->Repetitions(3);

void BM_Baseline_CondvarWake(benchmark::State& state) {
  std::mutex mu;
  std::condition_variable wake, done;
  int pending = 0;
  bool quit = false;
  std::thread waiter([&] {
    std::unique_lock lk(mu);
    while (!quit) {
      wake.wait_for(lk, std::chrono::seconds(1), [&] { return pending > 0 || quit; });
      pending = 0;
      done.notify_all();
    }
  });
  for (auto _ : state) {
    {
      std::unique_lock lk(mu);
      done.wait(lk, [&] { return pending == 0; });
    }
    std::this_thread::sleep_for(std::chrono::microseconds(200));  // the waiter is asleep again
    auto t0 = std::chrono::steady_clock::now();
    {
      std::lock_guard lk(mu);
      ++pending;
    }
    wake.notify_one();
    auto t1 = std::chrono::steady_clock::now();
    state.SetIterationTime(std::chrono::duration<double>(t1 - t0).count());
  }
  {
    std::lock_guard lk(mu);
    quit = true;
  }
  wake.notify_one();
  waiter.join();
}
BENCHMARK(BM_Baseline_CondvarWake)->Unit(benchmark::kNanosecond)->UseManualTime()->Iterations(2000);

}  // namespace

// (f) Start-up: the constructor (meters, logs, intensity) until it returns, for a fixed intensity,
// for no options offline (the embedded defaults), and for no options online with no network
// (IP geolocation to an address that never answers). The intensity issue asks that the last two
// start no slower than the first: the network is only ever used on the intensity worker.
void BM_TrackerStart(benchmark::State& state, int mode) {
  NullStream null;
  epochwatt::Options o;
  o.epochs = 1;
  o.sim_gpu = "bench-gpu";
  o.sim_gpu_watts = 300.0;
  o.discover_meters = false;
  o.console = &null.stream;
  o.verbose = 0;
  o.log_dir.reset();
  o.cache_dir = "none";
  o.config_file = "/nonexistent/epochwatt-bench.ini";
  if (mode == 0) o.intensity_g_per_kwh = 100.0;
  if (mode == 1) o.offline = true;
  if (mode == 2) o.provider_urls["geolocation"] = "http://10.255.255.1:81/json";  // unroutable
  for (auto _ : state) {
    auto tracker = std::make_unique<epochwatt::Tracker>(o);
    state.PauseTiming();
    tracker->stop();  // with mode 2 this abandons the geolocation request (up to ~1 s)
    tracker.reset();
    state.ResumeTiming();
  }
}
BENCHMARK_CAPTURE(BM_TrackerStart, fixed_intensity, 0)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_TrackerStart, offline_defaults, 1)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_TrackerStart, online_no_network, 2)->Unit(benchmark::kMicrosecond)->UseRealTime()->Iterations(10);

BENCHMARK_MAIN();
