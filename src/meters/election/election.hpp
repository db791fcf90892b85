// The node election of a multi-process job (docs/cluster.md, "Who measures what: the node
// election"). Node-wide meters (RAPL, the CPU and DRAM estimates, any CPU or DRAM meter) are
// measured by exactly one process per node and job, and each GPU by one process: the one that
// holds an exclusive flock(2) on the meter's claim file in the node's runtime folder. The kernel
// releases a dead holder's lock, so a follower takes over at its next try (every
// kClaimRetryS); ranks may start in any order. Nothing here is in core: core writes no files.
#pragma once

#include <memory>
#include <string>

#include "epochwatt/job.hpp"
#include "epochwatt/meter.hpp"
#include "epochwatt/registry.hpp"

namespace epochwatt::meters {

// How often a process without a claim tries to take it, in seconds: one flock(2) call, so a
// dead holder's meters are taken over within this (plus one meter period). Our own choice.
inline constexpr double kClaimRetryS = 1.0;

// The node's election folder: `option` (Options::runtime_dir) when set, else EPOCHWATT_RUNTIME_DIR,
// else $XDG_RUNTIME_DIR/epochwatt, else /tmp/epochwatt-<uid>.
std::string election_dir(const std::string& option, const EnvLookup& env = {});

// Makes `dir` (mode 0700; its parent must exist) or checks the one there. Returns "" when it can
// hold claims, else one line that says why not. A folder under /tmp must be a real folder (not a
// link) owned by this user and writable by no one else, since another user could have made it.
std::string prepare_election_dir(const std::string& dir);

// One claim: an exclusive flock(2) on <dir>/<name of key>.lock, taken without waiting. The file
// is opened once (O_CLOEXEC, so a wrapped child does not inherit the lock) and left in place when
// the claim goes: removing a lock file races with another process's open. Thread-safety: one
// thread at a time (the sampler, or the thread that builds the tracker).
class Claim {
 public:
  // Never throws: a file that cannot be opened leaves problem() set. `holder` is written into
  // the file when the claim is taken ("rank 3 (local 1), pid 4242"), for the others' messages.
  Claim(const std::string& dir, const std::string& key, std::string holder);
  ~Claim();
  Claim(const Claim&) = delete;
  Claim& operator=(const Claim&) = delete;

  // Tries to take the claim; true while it is held (a held claim is kept until destruction).
  bool try_take();
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
};

// The file name of a claim's key: its readable characters, and a hash of the whole key so that
// two keys never share a file.
std::string claim_file_name(const std::string& key);

// A meter counted only while its process holds `claim`: 0 J before, and from the moment the
// claim is taken the inner meter's joules (the inner meter is opened then). A process without the
// claim tries it again every retry_s seconds of its reads; a claim shared by several meters starts
// them all at their next read. info() is the inner meter's, with `shared` ("node" or "device")
// and `claim` set and the election said in `detail`.
class ElectedMeter final : public Meter {
 public:
  ElectedMeter(std::shared_ptr<Meter> inner, std::shared_ptr<Claim> claim, std::string shared,
               double retry_s = kClaimRetryS);
  const MeterInfo& info() const override { return info_; }
  void open(double t) override;
  MeterReading read(double t) override;
  bool counting() const { return running_; }

 private:
  void start(double t);
  std::shared_ptr<Meter> inner_;
  std::shared_ptr<Claim> claim_;
  MeterInfo info_;
  double retry_s_;
  double last_try_ = 0.0;
  bool running_ = false;
  std::string failed_;  // the inner meter's open failed at take-over: its one-line error
};

// What share_meters_in_job needs besides the meters.
struct JobSharing {
  JobIdentity job;
  std::string runtime_dir;     // Options::runtime_dir ("" = the default, election_dir)
  bool devices_by_pid = false;  // GPUs are then chosen by process and are not claimed
  bool process_tree_cpu = false;  // the CPU estimate follows this process tree: not node-wide
  // Meters the caller gave (Options::meters): never narrowed or claimed.
  std::vector<std::shared_ptr<Meter>> own_meters;
  EnvLookup env;  // for election_dir; empty: getenv
};

// Applies the job's rules to a run's meters, in place (docs/cluster.md). Does nothing for a single
// process (world size 1, or Options::independent). Else:
//  - GPUs: when the GPUs found are as many as the job's processes on this node, this process keeps
//    its local rank's one (in the order the backend lists them: CUDA_VISIBLE_DEVICES's); when it
//    finds one, that one; otherwise all of them. Each kept GPU is claimed by its hardware id (NVML
//    UUID), so that no GPU is counted by two processes. Not with devices_by_pid.
//  - CPU and DRAM meters (except a process-tree estimate and the caller's own) share one "node"
//    claim: one process per node and job measures them.
// The claim is tried at once, so `found.notes` says who holds it. An election folder or claim file
// that cannot work is one line in `found.coverage_warnings`, and the meters are then measured
// by this process unclaimed (the job may count them more than once).
void share_meters_in_job(RunDiscovery& found, const JobSharing& sharing);

}  // namespace epochwatt::meters
