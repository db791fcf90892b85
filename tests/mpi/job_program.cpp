// A small MPI training job for tests/mpi/test_mpi_job.py and bench/: every rank tracks simulated
// meters (a CPU and a GPU of known power) through epochwatt::mpi::JobTracker.
//
//   job_program --epochs N --epoch-ms MS --log-dir DIR [--stop-rank R --stop-after K]
//               [--vanish-rank R --vanish-after K] [--wait-s S] [--job-json PATH]
//
// --stop-rank: that rank calls stop() after K epochs (early stopping). --vanish-rank: that rank
// drops out after K epochs without a final record (its tracker is leaked, as a crash would leave
// it), then finalises MPI. --job-json: rank 0 writes the job's actual there, digits in full.
#include <mpi.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <string>
#include <thread>

#include "epochwatt/mpi.hpp"

namespace {

struct Args {
  int epochs = 3, epoch_ms = 200, stop_rank = -1, stop_after = 0, vanish_rank = -1, vanish_after = 0;
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
    else if (k == "--job-json") a.job_json = v;
    else {
      std::cerr << "job_program: unknown argument " << k << "\n";
      std::exit(2);
    }
  }
  return a;
}

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
  if (!a.log_dir.empty()) o.log_dir = a.log_dir;
  auto tracker = std::make_unique<epochwatt::mpi::JobTracker>(o, MPI_COMM_WORLD, a.wait_s);
  for (int e = 1; e <= a.epochs; ++e) {
    std::printf("rank %d: epoch %d begins\n", rank, e);
    std::fflush(stdout);
    tracker->epoch_start();
    std::this_thread::sleep_for(std::chrono::milliseconds(a.epoch_ms));
    tracker->epoch_end();
    std::printf("rank %d: epoch %d ended\n", rank, e);
    std::fflush(stdout);
    if (rank == a.stop_rank && e == a.stop_after) break;
    if (rank == a.vanish_rank && e == a.vanish_after) {
      (void)tracker.release();  // no final record: as a rank that crashed
      MPI_Finalize();
      return 0;
    }
  }
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
