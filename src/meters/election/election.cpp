// The node election (election.hpp, docs/cluster.md "Who measures what: the node election").
#include "meters/election/election.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <exception>

#include "core/format.hpp"
#include "core/linear_meter.hpp"

namespace epochwatt::meters {
namespace {

std::optional<std::string> env_value(const EnvLookup& env, const char* name) {
  if (env) return env(name);
  const char* v = std::getenv(name);
  if (!v) return std::nullopt;
  return std::string(v);
}

std::string errno_text(int e) { return std::strerror(e); }

// The delay before the first try of another local rank's GPU: EPOCHWATT_GPU_CLAIM_DELAY_S when it
// is a number of seconds >= 0, else kForeignGpuClaimDelayS (a malformed value is one warning).
double foreign_gpu_delay_s(const EnvLookup& env, std::vector<std::string>& warnings) {
  auto v = env_value(env, "EPOCHWATT_GPU_CLAIM_DELAY_S");
  if (!v || v->empty()) return kForeignGpuClaimDelayS;
  try {
    std::size_t used = 0;
    double d = std::stod(*v, &used);
    if (used == v->size() && d >= 0 && d < 1e9) return d;
  } catch (const std::exception&) {
  }
  warnings.push_back("election: EPOCHWATT_GPU_CLAIM_DELAY_S='" + *v + "' is not a number of seconds >= 0; using " +
                     detail::readable(kForeignGpuClaimDelayS) + " s");
  return kForeignGpuClaimDelayS;
}

// The inner meter's cumulative mark, kept (make_elected_meter).
class ElectedCumulativeMeter final : public ElectedMeter, public detail::CumulativeBetweenReads {
 public:
  using ElectedMeter::ElectedMeter;
  double longest_period_s() const override { return detail::cumulative_longest_period_s(inner()); }
};

}  // namespace

std::string election_dir(const std::string& option, const EnvLookup& env) {
  if (!option.empty()) return option;
  if (auto v = env_value(env, "EPOCHWATT_RUNTIME_DIR"); v && !v->empty()) return *v;
  if (auto v = env_value(env, "XDG_RUNTIME_DIR"); v && !v->empty()) return *v + "/epochwatt";
  return "/tmp/epochwatt-" + std::to_string(::getuid());
}

std::string prepare_election_dir(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
    return "cannot make the election folder " + dir + ": " + errno_text(errno);
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0) return "cannot read the election folder " + dir + ": " + errno_text(errno);
  bool under_tmp = dir.rfind("/tmp/", 0) == 0;
  if (under_tmp) {
    if (!S_ISDIR(st.st_mode)) return "the election folder " + dir + " is not a folder (a link?)";
    if (st.st_uid != ::getuid())
      return "the election folder " + dir + " belongs to another user (uid " + std::to_string(st.st_uid) + ")";
    if ((st.st_mode & 022) != 0) return "the election folder " + dir + " is writable by other users";
  } else if (!S_ISDIR(st.st_mode)) {
    struct stat target {};
    if (::stat(dir.c_str(), &target) != 0 || !S_ISDIR(target.st_mode)) return "the election path " + dir + " is not a folder";
  }
  if (::access(dir.c_str(), W_OK | X_OK) != 0) return "the election folder " + dir + " is not writable: " + errno_text(errno);
  return "";
}

std::string claim_file_name(const std::string& key) {
  // FNV-1a, 64 bit (the published offset basis and prime): a short, stable hash of the whole key.
  std::uint64_t h = 14695981039346656037ull;
  for (unsigned char c : key) {
    h ^= c;
    h *= 1099511628211ull;
  }
  std::string readable;
  for (char c : key) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
    if (readable.size() < 120) readable += ok ? c : '_';
  }
  char hex[17];
  static const char digits[] = "0123456789abcdef";
  for (int i = 15; i >= 0; --i, h >>= 4) hex[i] = digits[h & 0xf];
  hex[16] = '\0';
  return readable + "-" + hex + ".lock";
}

Claim::Claim(const std::string& dir, const std::string& key, std::string holder)
    : key_(key), path_(dir + "/" + claim_file_name(key)), holder_text_(std::move(holder)) {
  fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd_ < 0) problem_ = "cannot open the claim file " + path_ + ": " + errno_text(errno);
}

Claim::~Claim() {
  if (fd_ >= 0) ::close(fd_);  // releases the lock
}

void Claim::release() {
  if (!held_ || fd_ < 0) return;
  if (::ftruncate(fd_, 0) != 0) {
    // The stale holder's line only misleads messages; the lock is what counts.
  }
  (void)::flock(fd_, LOCK_UN);
  held_ = false;
}

bool Claim::detach() {
  if (users_ == 0 || --users_ != 0) return false;
  bool was_held = held_;
  release();
  return was_held;
}

bool Claim::try_take() {
  if (held_ || fd_ < 0) return held_;
  if (::flock(fd_, LOCK_EX | LOCK_NB) == 0) {
    held_ = true;
    std::string text = holder_text_ + "\n";
    if (::ftruncate(fd_, 0) == 0) {
      ssize_t n = ::pwrite(fd_, text.data(), text.size(), 0);
      (void)n;  // the holder's text is for messages only
    }
    return true;
  }
  if (errno != EWOULDBLOCK && errno != EINTR && problem_.empty())
    problem_ = "flock on " + path_ + " failed: " + errno_text(errno) + " (a file system without locks, such as some NFS mounts?)";
  return false;
}

std::string Claim::holder() const {
  if (fd_ < 0) return "";
  char buf[256];
  ssize_t n = ::pread(fd_, buf, sizeof buf - 1, 0);
  if (n <= 0) return "";
  std::string s(buf, static_cast<std::size_t>(n));
  if (auto nl = s.find('\n'); nl != std::string::npos) s.resize(nl);
  return s;
}

ElectedMeter::ElectedMeter(std::shared_ptr<Meter> inner, std::shared_ptr<Claim> claim, std::string shared, double retry_s,
                           double first_try_delay_s)
    : inner_(std::move(inner)),
      claim_(std::move(claim)),
      info_(inner_->info()),
      retry_s_(retry_s),
      first_try_delay_s_(first_try_delay_s) {
  claim_->attach();
  info_.shared = std::move(shared);
  info_.claim = claim_->key();
  info_.detail += (info_.detail.empty() ? "" : "; ") + std::string("measured by one process of the job") +
                  (info_.shared == "node" ? " per node" : "") + " (node election, claim " + claim_->path() +
                  "); 0 J while another process holds it";
}

ElectedMeter::~ElectedMeter() { let_go(); }

bool ElectedMeter::let_go() noexcept {
  if (done_) return false;
  done_ = true;
  running_ = false;
  return claim_->detach();
}

namespace {
// What a failed or lost elected meter's message adds: whether the claim went with it.
std::string claim_fate(bool let_go) {
  return let_go ? "; its claim is let go for another process of the job"
                : "; its claim stays with this process's other meters on it, so no other process measures it";
}
}  // namespace

void ElectedMeter::start(double t) {
  try {
    inner_->open(t);
    running_ = true;
  } catch (const std::exception& e) {
    // Another process of the job may open it: let the claim go (its last user here releases it).
    failed_ = std::string("cannot open ") + info_.id + " after taking its claim: " + e.what();
    failed_ += claim_fate(let_go());
  }
}

void ElectedMeter::open(double t) {
  next_try_ = t + first_try_delay_s_;
  if (first_try_delay_s_ > 0 && !claim_->held()) return;
  next_try_ = t + retry_s_;
  if (claim_->try_take()) start(t);
}

MeterReading ElectedMeter::read(double t) {
  if (!failed_.empty()) return {last_joules_, false, true, failed_};
  if (done_) return {last_joules_, false, true, info_.id + " was closed"};
  if (!running_) {
    // A claim another meter of this process took is used at once; else one try per retry_s.
    if (claim_->held() || t >= next_try_) {
      next_try_ = t + retry_s_;
      if (claim_->try_take()) start(t);
    }
    if (!running_) return {0.0, failed_.empty(), !failed_.empty(), failed_};
  }
  MeterReading r = inner_->read(t);
  if (r.ok) last_joules_ = r.joules;
  if (r.lost) {
    // Gone here for good: another process of the job may still read it (a device lost to this
    // process only), so the claim goes; this process reads it no more.
    failed_ = r.error.empty() ? info_.id + " is lost" : r.error;
    failed_ += claim_fate(let_go());
    r.error = failed_;
  }
  return r;
}

void ElectedMeter::close(double t) noexcept {
  if (running_) detail::close_if_marked(inner_, t);
  let_go();
}

std::shared_ptr<ElectedMeter> make_elected_meter(std::shared_ptr<Meter> inner, std::shared_ptr<Claim> claim,
                                                 std::string shared, double retry_s, double first_try_delay_s) {
  // Only the cumulative mark is kept. A linear mark (the DRAM estimate) would let the sampler read
  // it only every kDramPollS (60 s) even while attentive, so a follower would take a leader's
  // claim over up to a minute late and that minute would be counted by no one; the estimate is
  // cheap to read, so it is read like any unmarked meter.
  if (dynamic_cast<const detail::CumulativeBetweenReads*>(inner.get()) != nullptr)
    return std::make_shared<ElectedCumulativeMeter>(std::move(inner), std::move(claim), std::move(shared), retry_s,
                                                    first_try_delay_s);
  return std::make_shared<ElectedMeter>(std::move(inner), std::move(claim), std::move(shared), retry_s,
                                        first_try_delay_s);
}

void share_meters_in_job(RunDiscovery& found, const JobSharing& s) {
  const JobIdentity& job = s.job;
  if (!job.multi_process()) return;
  auto own = [&](const std::shared_ptr<Meter>& m) {
    return std::find(s.own_meters.begin(), s.own_meters.end(), m) != s.own_meters.end();
  };
  auto info_note = [&](const std::string& text) {
    found.notes.push_back({Message::Channel::err, Severity::info, text, "MainThread"});
  };
  std::string who = "rank " + std::to_string(job.rank) + " (local rank " + std::to_string(job.local_rank) + " of " +
                    std::to_string(job.local_world_size) + " on " + job.node + "), pid " + std::to_string(::getpid());

  // GPUs: every one is claimed; this rank's own (by local rank, when the count allows) at once,
  // the others' after a delay, so that their ranks normally win (election.hpp).
  std::vector<std::shared_ptr<Meter>> gpus;
  for (const auto& m : found.meters)
    if (m->info().component == Component::gpu && !own(m)) gpus.push_back(m);
  std::vector<std::shared_ptr<Meter>> others;  // other local ranks' GPUs: first tried after a delay
  double delay_s = 0.0;
  if (!s.devices_by_pid && gpus.size() > 1 && static_cast<int>(gpus.size()) == job.local_world_size &&
      job.local_rank >= 0 && job.local_rank < job.local_world_size) {
    delay_s = foreign_gpu_delay_s(s.env, found.coverage_warnings);
    for (std::size_t i = 0; i < gpus.size(); ++i)
      if (static_cast<int>(i) != job.local_rank) others.push_back(gpus[i]);
    info_note("GPU choice: " + std::to_string(gpus.size()) + " GPUs for " + std::to_string(job.local_world_size) +
              " processes on this node: local rank " + std::to_string(job.local_rank) + " measures " +
              gpus[static_cast<std::size_t>(job.local_rank)]->info().device_name + " (" +
              gpus[static_cast<std::size_t>(job.local_rank)]->info().id + "); the others are left to their ranks, and " +
              "this process measures any of them that no process has claimed " + detail::readable(delay_s) +
              " s after its start (EPOCHWATT_GPU_CLAIM_DELAY_S) or that another lets go");
  } else if (!s.devices_by_pid && gpus.size() > 1) {
    info_note("GPU choice: " + std::to_string(gpus.size()) + " GPUs for " + std::to_string(job.local_world_size) +
              " process(es) on this node: each GPU is measured by the first process of the job that claims it");
  }

  std::string dir = election_dir(s.runtime_dir, s.env);
  std::string problem = prepare_election_dir(dir);
  // JOB/NODE, not the step: concurrent steps of one job share the node's meters, so that
  // `sum by (job)` counts each node once (docs/cluster.md).
  std::string job_key = (job.job_id.empty() ? std::string("no-job-id") : job.job_id) + "/" + job.node;
  if (job.job_id.empty())
    found.coverage_warnings.push_back(
        "election: no job id (give --job-id or EPOCHWATT_JOB_ID): every job on " + job.node +
        " without one shares one election, so another such job's process may measure this node's meters");
  std::shared_ptr<Claim> node_claim;
  std::vector<std::string> node_ids, unclaimed, left_out;
  for (auto& m : found.meters) {
    const MeterInfo& info = m->info();
    if (own(m)) continue;
    // A CPU estimate of the process tree's CPU time is this process's own, not the node's.
    bool own_cpu = s.process_tree_cpu && info.component == Component::cpu && info.method == Method::estimate;
    bool node_wide = info.component != Component::gpu && !own_cpu;
    bool device = info.component == Component::gpu && !s.devices_by_pid;
    if (!node_wide && !device) continue;
    bool delayed = device && std::find(others.begin(), others.end(), m) != others.end();
    // Without claims, another local rank's GPU is left to that rank (measured here it would be
    // counted by every rank); this process's own and the node's are measured unclaimed.
    auto unusable = [&] { (delayed ? left_out : unclaimed).push_back(info.id); };
    if (!problem.empty()) {
      unusable();
      continue;
    }
    std::shared_ptr<Claim> claim;
    if (node_wide) {
      if (!node_claim) node_claim = std::make_shared<Claim>(dir, job_key + "/node", who);
      claim = node_claim;
    } else {
      std::string dev = info.hardware_id.empty() ? info.id + ":" + info.device_name : info.hardware_id;
      claim = std::make_shared<Claim>(dir, job_key + "/gpu:" + dev, who);
    }
    if (!claim->problem().empty()) {
      if (problem.empty()) problem = claim->problem();
      unusable();
      continue;
    }
    if (!delayed) claim->try_take();
    if (!claim->problem().empty()) {
      if (problem.empty()) problem = claim->problem();
      unusable();
      continue;
    }
    if (device && delayed)
      info_note("GPU " + info.device_name + " (" + info.id + "): another local rank's; this process reads 0 J for it " +
                "and claims it from " + detail::readable(delay_s) + " s after its start if no process holds it then");
    else if (device)
      info_note("GPU " + info.device_name + " (" + info.id + "): " +
                (claim->held() ? "measured by this process (" + who + ")"
                               : "claimed by " + (claim->holder().empty() ? std::string("another process of the job") : claim->holder()) +
                                     "; this process reads 0 J for it and takes over if that one ends"));
    if (node_wide) node_ids.push_back(info.id);
    m = make_elected_meter(m, claim, node_wide ? "node" : "device", kClaimRetryS, delayed ? delay_s : 0.0);
  }
  if (node_claim && !node_ids.empty())
    info_note("Node-wide meters (" + detail::join(node_ids, ", ") + ") are measured by one process of job " +
              (job.job_id.empty() ? std::string("(no id)") : job.job_id) + " on " + job.node + ": " +
              (node_claim->held() ? "this one (" + who + ")"
                                  : (node_claim->holder().empty() ? std::string("another") : node_claim->holder()) +
                                        "; this process reads 0 J for them and takes over if that one ends (tried every " +
                                        detail::readable(kClaimRetryS) + " s)") +
              "; election file " + node_claim->path());
  if (!left_out.empty()) {
    std::vector<std::shared_ptr<Meter>> kept;
    for (const auto& m : found.meters)
      if (std::find(left_out.begin(), left_out.end(), m->info().id) == left_out.end() || own(m)) kept.push_back(m);
    found.meters = std::move(kept);
  }
  if (!unclaimed.empty() || !left_out.empty())
    found.coverage_warnings.push_back(
        "election: " + problem +
        (unclaimed.empty() ? std::string()
                           : "; this process measures " + detail::join(unclaimed, ", ") +
                                 " itself, so the job may count them more than once") +
        (left_out.empty() ? std::string()
                          : "; the other local ranks' GPUs (" + detail::join(left_out, ", ") +
                                ") are left to them, unmeasured if they do not track") +
        " (see docs/cluster.md; give --runtime-dir a local folder)");
}

}  // namespace epochwatt::meters
