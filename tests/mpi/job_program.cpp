// A small MPI training job for tests/mpi/test_mpi_job.py and bench/: every rank tracks simulated
// meters (a CPU and a GPU of known power) through epochwatt::mpi::JobTracker.
//
//   job_program --epochs N --epoch-ms MS --log-dir DIR [--stop-rank R --stop-after K]
//               [--vanish-rank R --vanish-after K] [--wait-s S] [--job-json PATH]
//               [--pred-after K] [--independent 1] [--inert-rank R] [--late-rank R --late-ms MS]
//               [--held-intensity-rank R]
//
// --stop-rank: that rank calls stop() after K epochs (early stopping). --vanish-rank: that rank
// drops out after K epochs without a final record (its tracker is leaked, as a crash would leave
// it), then finalises MPI. --job-json: rank 0 writes the job's actual there, digits in full.
// --pred-after: epochs_before_pred. --independent 1: Options::independent (no reduction).
// --inert-rank: that rank's tracker has no meter (ignore_errors): inert, it measures nothing.
// --late-rank: that rank sleeps MS more in each epoch (it falls behind the others).
// --held-intensity-rank: that rank's intensity comes from a provider whose fetch is held until
// the rank's last epoch has ended (as a live HTTP request that hangs); after each epoch_end() the
// rank prints whether the fetch was still held.
#include <mpi.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "epochwatt/intensity.hpp"
#include "epochwatt/mpi.hpp"

namespace {

struct Args {
  int epochs = 3, epoch_ms = 200, stop_rank = -1, stop_after = 0, vanish_rank = -1, vanish_after = 0;
  int pred_after = 1, independent = 0, inert_rank = -1, late_rank = -1, late_ms = 0, held_rank = -1;
  double wait_s = 30.0;
  std::string log_dir, job_json;
};

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    const char* v = argv[i + 1];
    if (k == "--epochs") a.epochs = std::atoi(v);
    else if (k == "--epoch-ms") a.epoch_ms = std::atoi(v);
    else if (k == "--stop-rank") a.stop_rank = std::atoi(v);
    else if (k == "--stop-after") a.stop_after = std::atoi(v);
    else if (k == "--vanish-rank") a.vanish_rank = std::atoi(v);
    else if (k == "--vanish-after") a.vanish_after = std::atoi(v);
    else if (k == "--wait-s") a.wait_s = std::atof(v);
    else if (k == "--log-dir") a.log_dir = v;
    else if (k == "--pred-after") a.pred_after = std::atoi(v);
    else if (k == "--independent") a.independent = std::atoi(v);
    else if (k == "--inert-rank") a.inert_rank = std::atoi(v);
    else if (k == "--late-rank") a.late_rank = std::atoi(v);
    else if (k == "--late-ms") a.late_ms = std::atoi(v);
    else if (k == "--held-intensity-rank") a.held_rank = std::atoi(v);
    else if (k == "--job-json") a.job_json = v;
    else {
      std::cerr << "job_program: unknown argument " << k << "\n";
      std::exit(2);
    }
  }
  return a;
}

// An intensity provider whose fetch waits until let_go() (or 20 s): a live request that hangs.
class HeldProvider : public epochwatt::IntensityProvider {
 public:
  std::string name() const override { return "held"; }
  std::optional<epochwatt::IntensityValue> current(const epochwatt::Location&, std::string*) override {
    std::unique_lock lk(mu_);
    cv_.wait_for(lk, std::chrono::seconds(20), [&] { return released_; });
    answered_ = true;
    return epochwatt::IntensityValue{100.0, "held", "test provider", true, false};
  }
  void let_go() {
    {
      std::lock_guard lk(mu_);
      released_ = true;
    }
    cv_.notify_all();
  }
  bool answered() const { return answered_.load(); }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool released_ = false;
  std::atomic<bool> answered_{false};
};

}  // namespace

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  Args a = parse(argc, argv);
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  epochwatt::Options o;
  o.epochs = a.epochs;
  o.update_interval = 0.05;
  o.discover_meters = false;
  o.sim_cpu = "sim_cpu";
  o.sim_cpu_tdp = 100.0;
  o.sim_gpu = "sim_gpu";
  o.sim_gpu_watts = 200.0;
  o.intensity_g_per_kwh = 100.0;
  o.offline = true;
  o.epochs_before_pred = a.pred_after;
  o.independent = a.independent != 0;
  if (rank == a.inert_rank) {
    o.sim_cpu.reset();
    o.sim_gpu.reset();
    o.ignore_errors = true;
  }
  std::shared_ptr<HeldProvider> held;
  if (rank == a.held_rank) {
    held = std::make_shared<HeldProvider>();
    o.intensity_g_per_kwh.reset();
    o.country = "DK";
    o.live_providers = {"none"};
    o.cache_dir = "none";
    o.intensity_providers = {held};
  }
  if (!a.log_dir.empty()) o.log_dir = a.log_dir;
  auto tracker = std::make_unique<epochwatt::mpi::JobTracker>(o, MPI_COMM_WORLD, a.wait_s);
  for (int e = 1; e <= a.epochs; ++e) {
    std::printf("rank %d: epoch %d begins\n", rank, e);
    std::fflush(stdout);
    tracker->epoch_start();
    std::this_thread::sleep_for(std::chrono::milliseconds(a.epoch_ms + (rank == a.late_rank ? a.late_ms : 0)));
    tracker->epoch_end();
    std::printf("rank %d: epoch %d ended\n", rank, e);
    if (held) std::printf("rank %d: epoch %d ended, intensity fetch held: %s\n", rank, e, held->answered() ? "no" : "yes");
    std::fflush(stdout);
    if (rank == a.stop_rank && e == a.stop_after) break;
    if (rank == a.vanish_rank && e == a.vanish_after) {
      (void)tracker.release();  // no final record: as a rank that crashed
      MPI_Finalize();
      return 0;
    }
  }
  if (held) held->let_go();
  tracker->stop();
  if (rank == 0 && !a.job_json.empty() && tracker->job_actual()) {
    const auto& j = *tracker->job_actual();
    if (FILE* f = std::fopen(a.job_json.c_str(), "w")) {
      std::fprintf(f, "{\"energy_kwh\": %.17g, \"epochs\": %d, \"ranks\": %d, \"nodes\": %d, \"missing\": [",
                   j.footprint.energy_kwh, j.footprint.epochs, j.ranks, j.nodes);
      for (std::size_t i = 0; i < j.missing.size(); ++i) std::fprintf(f, "%s%d", i ? ", " : "", j.missing[i]);
      std::fprintf(f, "]}\n");
      std::fclose(f);
    }
  }
  tracker.reset();
  MPI_Finalize();
  return 0;
}
