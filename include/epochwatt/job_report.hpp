// One job-wide prediction and actual (docs/cluster.md, "One job-wide prediction: the reduction").
//
// Every rank of a multi-process job runs its own Tracker. At each epoch end a rank turns its
// tracker's figures into one RankEpoch (Tracker::rank_epoch()), a fixed-size record, and sends it
// to rank 0 through the job's own transport (epochwatt::mpi::JobTracker over an MPI_Comm, or
// Python's torch.distributed store or mpi4py). Rank 0 adds every record it receives to a
// JobReport, and its tracker prints the job's Predicted block after epochs_before_pred epochs and
// the job's Actual block at the end (Tracker::report_job), naming the ranks and nodes counted and
// the ranks missing. This header holds the records and the sums; it names no transport.
//
//   rank r:  tracker.epoch_end(); tracker.flush();           // flush: only where exact figures matter
//            send(tracker.rank_epoch());                     // r != 0
//   rank 0:  report.add(tracker.rank_epoch()); report.add(received...);
//            if (epoch == epochs_before_pred) tracker.report_job(report, JobReport::Stage::predicted);
//   at stop: tracker.stop(); final record (rank_epoch(), finished = 1) sent / added;
//            rank 0: tracker.report_job(report, JobReport::Stage::actual)
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string_view>
#include <type_traits>
#include <vector>

#include "epochwatt/run.hpp"

namespace epochwatt {

// One rank's figures at an epoch end (or at its end), as it sends them to rank 0. Trivially
// copyable, 88 bytes, no pointers: sent as raw bytes between the processes of one job, which run
// the same build (same layout and byte order). Energies are IT energy (without PUE), J; times s.
struct RankEpoch {
  std::int32_t rank = 0;          // the sender's global rank
  std::int32_t epoch = 0;         // the newest epoch measured (1-based); 0: none yet
  std::int32_t epochs_ended = 0;  // epochs counted in the totals below
  std::int32_t finished = 0;      // 1: the rank's last record (its tracker stopped); 0: more follow
  std::uint64_t node_hash = 0;    // node_hash(JobIdentity::node): rank 0 counts the nodes
  double duration_s = 0.0;        // epoch `epoch`: its duration
  double gpu_joules = 0.0;        // epoch `epoch`: IT energy of the gpu component
  double cpu_joules = 0.0;        // epoch `epoch`: IT energy of the cpu component (DRAM included)
  double setup_s = 0.0;           // the set-up before epoch 1 (Tracker::setup())
  double setup_joules = 0.0;
  double total_s = 0.0;           // set-up + every counted epoch: the rank's actual time
  double total_joules = 0.0;      // set-up + every counted epoch: the rank's actual IT energy
  // 1: the rank's tracker is inert (no meter, ignore_errors) and will never measure an epoch;
  // rank 0 then waits for none of its records. Sent at once by epochwatt::mpi::JobTracker.
  std::int32_t inert = 0;
  std::int32_t reserved = 0;      // zero; keeps the record at 88 bytes for later fields
};
static_assert(std::is_trivially_copyable_v<RankEpoch> && sizeof(RankEpoch) == 88,
              "RankEpoch travels as 88 raw bytes");

// FNV-1a, 64 bits, of a node's name: what a RankEpoch carries instead of the name (fixed size).
std::uint64_t node_hash(std::string_view node);

// Rank 0's sum of the job: the newest record of every rank, and per epoch the job's figures over
// the ranks that reported it. Memory: O(world size + epochs), never ranks x epochs.
//
// Thread-safety: none; one thread (the training loop's, on rank 0) uses it.
class JobReport {
 public:
  enum class Stage { predicted, actual };

  // world_size >= 1 (clamped).
  explicit JobReport(int world_size);

  // Adds one record. A record with a rank outside [0, world_size) or older than the rank's newest
  // (a lower epoch, or anything after its final record) is ignored and returns false. A record's
  // epoch figures count once per (rank, epoch).
  bool add(const RankEpoch& r);

  int world_size() const { return world_size_; }
  // Ranks heard from, and the distinct nodes among them.
  int ranks_reported() const { return static_cast<int>(newest_.size()); }
  int nodes() const;
  // Ranks that sent their final record.
  int ranks_finished() const;
  // True when every rank has reported epoch `epoch` (or finished before it, or said it is
  // inert): the job's figures for epochs 1..epoch are as whole as they will get.
  bool complete_through(int epoch) const;
  // Ranks heard from, neither finished nor inert, whose newest epoch is below `epoch`: late for
  // it, ascending. (Ranks never heard from are missing(), not late.)
  std::vector<int> late(int epoch) const;
  // Ranks whose tracker is inert (RankEpoch::inert): they count nothing, ascending.
  std::vector<int> inert() const;
  // True when every rank has sent its final record.
  bool all_finished() const { return ranks_finished() == world_size_; }
  // Ranks never heard from, or (final_only) not finished, ascending.
  std::vector<int> missing(bool final_only) const;
  // Ranks that finished with fewer epochs than the most any rank ended, with their count (inert
  // ranks are inert(), not stopped early).
  std::vector<std::pair<int, int>> stopped_early() const;

  // The job's epochs 1..upto as EpochSummary rows (no device entries): duration = the longest
  // rank's (ranks run side by side), joules = the sum over the ranks that reported it. Epochs no
  // rank reported are left out.
  std::vector<EpochSummary> epochs(int upto) const;
  // The job's IT energy of epochs 1..upto by component (J): "gpu", "cpu" (DRAM included).
  double component_joules(int upto, bool gpu) const;
  // The job's set-up: the longest rank's time, the sum of their energy.
  Setup setup() const;
  // The job's actual: epochs = the most any rank ended, time = the longest rank's set-up +
  // epochs, IT energy = the sum of every rank's newest total_joules (J).
  int epochs_ended() const;
  double total_s() const;
  double total_joules() const;

 private:
  struct JobEpoch {
    double duration_s = 0.0, gpu_joules = 0.0, cpu_joules = 0.0;
    int ranks = 0;
  };
  int world_size_;
  std::map<int, RankEpoch> newest_;   // rank -> newest record
  std::map<int, JobEpoch> epochs_;    // epoch -> the job's sums
};

// What Tracker::report_job hands the reporters (Reporter::job_reported): the job's block.
struct JobFootprint {
  JobReport::Stage stage = JobReport::Stage::predicted;
  int epochs_planned = 0;
  Consumption footprint;                    // the job's prediction or actual (facility energy, gCO2e)
  std::optional<PredictionDetail> detail;   // the prediction's (stage predicted)
  int world_size = 1, ranks = 0, nodes = 0; // ranks counted, and their distinct nodes
  std::vector<int> missing;                 // ranks never heard from (predicted) or not finished (actual)
  std::vector<int> late;                    // predicted: ranks heard from but behind its epoch
  std::vector<int> inert;                   // ranks whose tracker is inert: nothing of theirs counted
  std::vector<std::pair<int, int>> stopped_early;  // (rank, epochs) that ended fewer epochs
  int epoch = 0;                            // predicted: the epoch it is made after
};

}  // namespace epochwatt
