// The job-wide reduction's cost per epoch on the caller's thread (docs/performance.md, "Job-wide
// reduction (issue 14)"). Run under mpirun, one process per rank:
//
//   mpirun --allow-run-as-root --oversubscribe -np 4 build/bench/bench_reduction [EPOCHS] [EPOCH_MS]
//
// Each rank times epoch_end() of a plain Tracker, then of an epochwatt::mpi::JobTracker with the
// same simulated meters and options (epochs_before_pred = 1), over EPOCHS epochs (default 300) of
// EPOCH_MS ms of sleep (default 10). The reduction's cost is the difference: one flush_measurements() on epoch
// 1 (the prediction's), then per epoch rank_epoch() + MPI_Isend (rank 0: MPI_Iprobe/MPI_Recv of
// what has arrived). Rank 0 prints each rank's median, 90th percentile and maximum in
// microseconds, with epoch 1 (flush, and on rank 0 the wait for every rank's record and the
// Predicted block) and the last epoch (the run's end: stop() and, on rank 0, the wait for every
// rank's final record and the Actual block) apart. Nothing here depends on the epoch's length but the sampler's rounds,
// which run on their own thread.
#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <thread>
#include <vector>

#include "epochwatt/mpi.hpp"

namespace {

using Clock = std::chrono::steady_clock;

double us_since(Clock::time_point t0) { return std::chrono::duration<double, std::micro>(Clock::now() - t0).count(); }

epochwatt::Options options(int epochs) {
  epochwatt::Options o;
  o.epochs = epochs;
  o.update_interval = 0.5;
  o.discover_meters = false;
  o.sim_cpu = "sim_cpu";
  o.sim_cpu_tdp = 100.0;
  o.sim_gpu = "sim_gpu";
  o.sim_gpu_watts = 200.0;
  o.intensity_g_per_kwh = 100.0;
  o.offline = true;
  o.verbose = 0;
  o.write_json_summary = false;
  return o;
}

struct Stats {
  double first = 0, median = 0, p90 = 0, max = 0, last = 0;
};

// Epoch 1 (the prediction's: flush, and on rank 0 the wait for every rank) and the last epoch
// (monitor_epochs reached: stop(), the final records, rank 0's Actual block) apart.
Stats stats(std::vector<double> v) {
  Stats s;
  s.first = v.front();
  s.last = v.back();
  v.pop_back();
  v.erase(v.begin());
  std::sort(v.begin(), v.end());
  s.median = v[v.size() / 2];
  s.p90 = v[v.size() * 9 / 10];
  s.max = v.back();
  return s;
}

template <class T>
Stats time_epochs(T& tracker, int epochs, int epoch_ms) {
  std::vector<double> cost;
  for (int e = 0; e < epochs; ++e) {
    tracker.epoch_start();
    std::this_thread::sleep_for(std::chrono::milliseconds(epoch_ms));
    auto t0 = Clock::now();
    tracker.epoch_end();
    cost.push_back(us_since(t0));
  }
  return stats(cost);
}

}  // namespace

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int epochs = argc > 1 ? std::atoi(argv[1]) : 300;
  int epoch_ms = argc > 2 ? std::atoi(argv[2]) : 10;
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  Stats plain, job;
  {
    epochwatt::Options o = options(epochs);
    o.console = nullptr;
    std::ostringstream quiet;
    o.console = &quiet;
    epochwatt::Tracker t(o);
    plain = time_epochs(t, epochs, epoch_ms);
    t.stop();
  }
  MPI_Barrier(MPI_COMM_WORLD);
  {
    epochwatt::Options o = options(epochs);
    std::ostringstream quiet;
    o.console = &quiet;
    epochwatt::mpi::JobTracker t(o, MPI_COMM_WORLD, 30.0);
    job = time_epochs(t, epochs, epoch_ms);
    t.stop();
  }
  constexpr int kFields = 10;
  double mine[kFields] = {plain.first, plain.median, plain.p90, plain.max, plain.last,
                          job.first,   job.median,   job.p90,   job.max,   job.last};
  std::vector<double> all(static_cast<std::size_t>(size) * kFields);
  MPI_Gather(mine, kFields, MPI_DOUBLE, all.data(), kFields, MPI_DOUBLE, 0, MPI_COMM_WORLD);
  if (rank == 0) {
    std::printf("%d ranks, %d epochs of %d ms; epoch_end() on the caller's thread, us\n", size, epochs, epoch_ms);
    std::printf("(median, p90, max over epochs 2..N-1; epoch 1 and the last, which ends the run, apart)\n");
    std::printf("rank  plain: epoch1 median p90 max last | with reduction: epoch1 median p90 max last | reduction's median cost\n");
    for (int r = 0; r < size; ++r) {
      const double* v = &all[static_cast<std::size_t>(r) * kFields];
      std::printf("%4d  %8.1f %6.1f %6.1f %7.1f %8.1f | %8.1f %6.1f %6.1f %7.1f %8.1f | %6.1f\n", r, v[0], v[1], v[2], v[3],
                  v[4], v[5], v[6], v[7], v[8], v[9], v[6] - v[1]);
    }
  }
  MPI_Finalize();
  return 0;
}
