// The node election of a multi-process job (docs/cluster.md, "Who measures what: the node
// election"). Node-wide meters (RAPL, the CPU and DRAM estimates, any CPU or DRAM meter) are
// measured by exactly one process per node and job, and each GPU by one process: the one that
// holds an exclusive flock(2) on the meter's claim file in the node's runtime folder. A holder
// lets its claims go when its tracker stops, when a meter fails to open after taking its claim,
// or when it is lost; the kernel releases a dead holder's lock. A follower then takes over at its
// next try (every kClaimRetryS); ranks may start in any order. Nothing here is in core: core
// writes no files.
#pragma once

#include <memory>
#include <string>

#include "core/closing_meter.hpp"
#include "epochwatt/job.hpp"
#include "epochwatt/meter.hpp"
#include "epochwatt/registry.hpp"

namespace epochwatt::meters {

// How often a process without a claim tries to take it, in seconds: one flock(2) call, so a
// dead holder's meters are taken over within this (plus one meter period). Our own choice.
inline constexpr double kClaimRetryS = 1.0;

// How long a process waits before its first try of a GPU that is another local rank's (the GPU
// choice of share_meters_in_job), in seconds: the ranks of a job start their trackers within a
// few seconds of each other (one script, the same imports), so the owning rank normally takes its
// GPU first and each rank keeps measuring its own; a GPU whose rank does not track (rank-0-only
// tracking) or has died is taken by another process after this. The GPU's energy before that is
// counted by no one. Our own choice; EPOCHWATT_GPU_CLAIM_DELAY_S (seconds, >= 0) replaces it.
inline constexpr double kForeignGpuClaimDelayS = 5.0;

// The node's election folder: `option` (Options::runtime_dir) when set, else EPOCHWATT_RUNTIME_DIR,
// else $XDG_RUNTIME_DIR/epochwatt, else /tmp/epochwatt-<uid>.
std::string election_dir(const std::string& option, const EnvLookup& env = {});

// Makes `dir` (mode 0700; its parent must exist) or checks the one there. Returns "" when it can
// hold claims, else one line that says why not. A folder under /tmp must be a real folder (not a
// link) owned by this user and writable by no one else, since another user could have made it.
std::string prepare_election_dir(const std::string& dir);

// One claim: an exclusive flock(2) on <dir>/<name of key>.lock, taken without waiting. The file
// is opened once (O_CLOEXEC, so a wrapped child does not inherit the lock) and left in place when
// the claim goes: removing a lock file races with another process's open. The meters that use a
// claim attach() to it and detach() when they stop; the last to detach lets a held claim go.
// Thread-safety: one thread at a time (the sampler, or the thread that builds the tracker).
class Claim {
 public:
  // Never throws: a file that cannot be opened leaves problem() set. `holder` is written into
  // the file when the claim is taken ("rank 3 (local 1), pid 4242"), for the others' messages.
  Claim(const std::string& dir, const std::string& key, std::string holder);
  ~Claim();
  Claim(const Claim&) = delete;
  Claim& operator=(const Claim&) = delete;

  // Tries to take the claim; true while it is held (until release() or destruction).
  bool try_take();
  // Lets a held claim go (the holder's line is cleared), so that another process takes it at its
  // next try; does nothing when not held.
  void release();
  // A meter that uses this claim starts and stops using it; the last detach() releases it.
  void attach() { ++users_; }
  // True when this detach() let a held claim go (no other meter here uses it).
  bool detach();
  bool held() const { return held_; }
  // Why this claim cannot work ("" when it can): the file cannot be opened, the file system
  // refuses flock (ENOLCK, EOPNOTSUPP ...).
  const std::string& problem() const { return problem_; }
  // What the current holder wrote, "" when unknown.
  std::string holder() const;
  const std::string& path() const { return path_; }
  const std::string& key() const { return key_; }

 private:
  std::string key_, path_, holder_text_, problem_;
  int fd_ = -1;
  bool held_ = false;
  int users_ = 0;
};

// The file name of a claim's key: its readable characters, and a hash of the whole key so that
// two keys never share a file.
std::string claim_file_name(const std::string& key);

// A meter counted only while its process holds `claim`: 0 J before, and from the moment the
// claim is taken the inner meter's joules (the inner meter is opened then). A process without the
// claim tries it first first_try_delay_s after open() (0: at open()), then every retry_s seconds
// of its reads; a claim shared by several meters starts them all at their next read. The claim
// is let go at close() (the tracker stops), and when the inner meter fails to open after taking
// it or says it is lost (the reading is then lost: this process reads it no more, another may).
// info() is the inner meter's, with `shared` ("node" or "device") and `claim` set and the
// election said in `detail`. Build it with make_elected_meter(), which keeps the inner meter's
// marks (core/linear_meter.hpp), so that the sampler reads it as rarely as the inner meter.
class ElectedMeter : public Meter, public detail::ClosedAtStop {
 public:
  ElectedMeter(std::shared_ptr<Meter> inner, std::shared_ptr<Claim> claim, std::string shared,
               double retry_s = kClaimRetryS, double first_try_delay_s = 0.0);
  ~ElectedMeter() override;
  const MeterInfo& info() const override { return info_; }
  void open(double t) override;
  MeterReading read(double t) override;
  // Stops measuring and lets the claim go (the last of its meters to close releases it).
  void close(double t) noexcept override;
  bool counting() const { return running_; }

 protected:
  const std::shared_ptr<Meter>& inner() const { return inner_; }

 private:
  void start(double t);
  bool let_go() noexcept;  // true when the claim was let go with it
  std::shared_ptr<Meter> inner_;
  std::shared_ptr<Claim> claim_;
  MeterInfo info_;
  double retry_s_, first_try_delay_s_;
  double next_try_ = 0.0;
  bool running_ = false;
  bool done_ = false;   // closed, failed or lost: never reads or claims again
  double last_joules_ = 0.0;
  std::string failed_;  // the inner meter's open failed at take-over, or it was lost: one line
};

// An ElectedMeter that carries the inner meter's CumulativeBetweenReads mark (with its
// longest_period_s()): a follower's reads cost one flock(2) at most, so the mark holds for it too,
// and while the sampler is quiet it tries the claim at the quiet period (MeterSet::kQuietPeriodS)
// instead of every retry_s. A LinearBetweenReads mark is not carried: it would stretch the
// follower's tries to the linear meter's poll period (60 s for the DRAM estimate).
std::shared_ptr<ElectedMeter> make_elected_meter(std::shared_ptr<Meter> inner, std::shared_ptr<Claim> claim,
                                                 std::string shared, double retry_s = kClaimRetryS,
                                                 double first_try_delay_s = 0.0);

// What share_meters_in_job needs besides the meters.
struct JobSharing {
  JobIdentity job;
  std::string runtime_dir;     // Options::runtime_dir ("" = the default, election_dir)
  bool devices_by_pid = false;  // GPUs are then chosen by process and are not claimed
  bool process_tree_cpu = false;  // the CPU estimate follows this process tree: not node-wide
  // Meters the caller gave (Options::meters): never narrowed or claimed.
  std::vector<std::shared_ptr<Meter>> own_meters;
  EnvLookup env;  // for election_dir and EPOCHWATT_GPU_CLAIM_DELAY_S; empty: getenv
};

// Applies the job's rules to a run's meters, in place (docs/cluster.md). Does nothing for a single
// process (world size 1, or Options::independent). Else:
//  - GPUs: every GPU found is claimed by its hardware id (NVML UUID), so that no GPU is counted by
//    two processes. When the GPUs found are as many as the job's processes on this node, the one
//    at this process's local rank (in the order the backend lists them: CUDA_VISIBLE_DEVICES's)
//    is "its own" and claimed at once; the others first after kForeignGpuClaimDelayS (or
//    EPOCHWATT_GPU_CLAIM_DELAY_S), so that their own ranks normally win and a GPU no rank of its
//    own measures is still measured. Otherwise every GPU is claimed at once. Not with
//    devices_by_pid.
//  - CPU and DRAM meters (except a process-tree estimate and the caller's own) share one "node"
//    claim: one process per node and job (JOB/NODE: the steps of one job share it) measures them.
// A claim tried at once is tried here, so `found.notes` says who holds it. A malformed
// EPOCHWATT_GPU_CLAIM_DELAY_S is one line in `found.coverage_warnings` (the default then holds). An election folder or claim file
// that cannot work is one line in `found.coverage_warnings`, and the meters are then measured
// by this process unclaimed (the job may count them more than once), except the other local
// ranks' GPUs, which are dropped (left to their ranks) and named in that line.
void share_meters_in_job(RunDiscovery& found, const JobSharing& sharing);

}  // namespace epochwatt::meters
