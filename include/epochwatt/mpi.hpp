// The job-wide reduction over MPI (the optional `epochwatt::mpi` target, built where MPI is found;
// docs/cluster.md, "One job-wide prediction: the reduction").
//
//   MPI_Init(&argc, &argv);
//   epochwatt::Options o;  o.epochs = 10;  o.log_dir = "logs";
//   epochwatt::mpi::JobTracker tracker(o, MPI_COMM_WORLD);  // on every rank, collectively
//   for (int e = 0; e < 10; ++e) { tracker.epoch_start(); train(); tracker.epoch_end(); }
//   tracker.stop();                                          // before MPI_Finalize
//   MPI_Finalize();
//
// Each rank runs its own Tracker (Tracker(Options), every layer). At each epoch end every rank
// sends one 88-byte RankEpoch to rank 0 on a communicator of its own (MPI_Comm_dup of the one
// given: its messages never match the job's); rank 0 adds them to a JobReport and prints the
// job's Predicted block after epochs_before_pred epochs and its Actual block at the end, naming
// the ranks and nodes counted and the ranks missing. Other ranks print nothing on the console.
#pragma once

#include <mpi.h>

#include <deque>
#include <memory>
#include <optional>

#include "epochwatt/job_report.hpp"
#include "epochwatt/options.hpp"
#include "epochwatt/tracker.hpp"

namespace epochwatt::mpi {

// How long rank 0 waits for the other ranks' records at the prediction's epoch and at the end
// before it reports what it has and names the ranks missing: 30 s, a few epochs of imbalance
// between ranks at most, well below a job's own collective timeouts (NCCL's and gloo's default
// 30 min). epochwatt's own choice.
inline constexpr double kDefaultWaitS = 30.0;

// One rank's tracker and its part of the reduction.
//
// Messages: none between the ranks but the records, each rank -> rank 0, point to point
// (MPI_Isend, eager: a 88-byte message never waits for rank 0), one per rank and epoch, plus a
// final one. Rank 0 receives whatever has arrived (MPI_Iprobe) at each of its epoch ends, and
// waits (polling, at most wait_s) only at the prediction's epoch and at stop(). No collective is
// made after the constructor, so a rank that stops early or dies cannot leave another waiting in
// one: rank 0 names what is missing when wait_s runs out. Every MPI call is made on the caller's
// thread (MPI_THREAD_FUNNELED is enough), never on the sampler's.
//
// The caller's cost per epoch: epoch_end() of the Tracker, one flush_measurements() (a wait for
// the sampler's reading, never for an intensity fetch in flight) on the epochs up to the
// prediction's only, then one MPI_Isend (rank 0: MPI_Iprobe). The caller's thread reads no meter.
// bench/bench_reduction measures it (docs/performance.md).
//
// Thread-safety: one thread, the training loop's, as MPI calls are made on it.
class JobTracker {
 public:
  // Collective over `comm` (MPI_Comm_dup): every rank of comm builds one, in the same order. MPI
  // must be initialised (Error otherwise). Options::rank and world_size default to the rank and
  // size in comm; Options::job_reduction is set. The node is Options::node, EPOCHWATT_NODE, else
  // the host name (detect_job). Throws what Tracker(Options) throws.
  // With Options::independent every rank is its own run: not collective, no communicator, no
  // message and no job block (report() is null); the JobTracker is then a plain Tracker.
  // Options::independent must be the same on every rank of comm: ranks without it wait in
  // MPI_Comm_dup for the ranks that have it, which never call it.
  // A rank whose tracker is inert (no meter, ignore_errors) sends one record saying so at once,
  // so rank 0 waits for none of its epochs and names it (JobFootprint::inert).
  JobTracker(Options options, MPI_Comm comm, double wait_s = kDefaultWaitS);
  // stop() if not called (before MPI_Finalize, or this rank's final record cannot be sent: it is
  // then only written to its own files). Never throws.
  ~JobTracker();
  JobTracker(const JobTracker&) = delete;
  JobTracker& operator=(const JobTracker&) = delete;

  void epoch_start();
  // Tracker::epoch_end(), then this rank's record for rank 0; on rank 0, after epochs_before_pred
  // epochs, the job's Predicted block (waiting at most wait_s for the other ranks' records).
  // Once monitor_epochs are reached, as stop().
  bool epoch_end();
  // Stops this rank's tracker, sends its final record; rank 0 waits at most wait_s for every
  // rank's final record and prints the job's Actual block. Idempotent.
  void stop();

  Tracker& tracker() { return *tracker_; }
  int rank() const { return rank_; }
  int world_size() const { return size_; }
  // Rank 0's view of the job (null on other ranks).
  const JobReport* report() const { return report_.get(); }
  // What rank 0 printed (nullopt elsewhere, or before it was printed).
  const std::optional<JobFootprint>& job_prediction() const { return prediction_; }
  const std::optional<JobFootprint>& job_actual() const { return actual_; }

 private:
  void deliver(const RankEpoch& r);
  void drain();
  template <class Done>
  void wait_for(Done done);
  void settle_sends(double wait_s);
  void finish();
  void fail(const char* what, int code);

  std::unique_ptr<Tracker> tracker_;
  MPI_Comm comm_ = MPI_COMM_NULL;
  int rank_ = 0, size_ = 1;
  int pred_after_ = 0;
  double wait_s_;
  int epochs_ = 0;
  bool predicted_ = false, finished_ = false, broken_ = false, independent_ = false;
  std::unique_ptr<JobReport> report_;
  struct Pending;
  std::unique_ptr<std::deque<Pending>> pending_;  // a deque: buffers in flight never move
  std::optional<JobFootprint> prediction_, actual_;
};

}  // namespace epochwatt::mpi
