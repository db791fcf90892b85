// JobReport: rank 0's sum of a job's RankEpoch records (include/epochwatt/job_report.hpp).
#include "epochwatt/job_report.hpp"

#include <algorithm>
#include <set>

namespace epochwatt {

std::uint64_t node_hash(std::string_view node) {
  // FNV-1a 64: offset basis 14695981039346656037, prime 1099511628211 (Fowler, Noll, Vo).
  std::uint64_t h = 14695981039346656037ull;
  for (unsigned char c : node) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

JobReport::JobReport(int world_size) : world_size_(std::max(1, world_size)) {}

bool JobReport::add(const RankEpoch& r) {
  if (r.rank < 0 || r.rank >= world_size_ || r.epoch < 0) return false;
  auto it = newest_.find(r.rank);
  int counted_through = 0;  // this rank's epochs already in epochs_
  if (it != newest_.end()) {
    const RankEpoch& old = it->second;
    if (old.finished || r.epoch < old.epoch || r.epochs_ended < old.epochs_ended) return false;
    counted_through = old.epoch;
  }
  if (r.epoch > counted_through) {
    JobEpoch& e = epochs_[r.epoch];
    e.duration_s = std::max(e.duration_s, r.duration_s);
    e.gpu_joules += r.gpu_joules;
    e.cpu_joules += r.cpu_joules;
    e.ranks++;
  }
  newest_[r.rank] = r;
  return true;
}

int JobReport::nodes() const {
  std::set<std::uint64_t> seen;
  for (const auto& [rank, r] : newest_) seen.insert(r.node_hash);
  return static_cast<int>(seen.size());
}

int JobReport::ranks_finished() const {
  int n = 0;
  for (const auto& [rank, r] : newest_) n += r.finished ? 1 : 0;
  return n;
}

bool JobReport::complete_through(int epoch) const {
  if (static_cast<int>(newest_.size()) < world_size_) return false;
  for (const auto& [rank, r] : newest_)
    if (r.epoch < epoch && !r.finished && !r.inert) return false;
  return true;
}

std::vector<int> JobReport::late(int epoch) const {
  std::vector<int> out;
  for (const auto& [rank, r] : newest_)
    if (r.epoch < epoch && !r.finished && !r.inert) out.push_back(rank);
  return out;
}

std::vector<int> JobReport::inert() const {
  std::vector<int> out;
  for (const auto& [rank, r] : newest_)
    if (r.inert) out.push_back(rank);
  return out;
}

std::vector<int> JobReport::missing(bool final_only) const {
  std::vector<int> out;
  for (int rank = 0; rank < world_size_; ++rank) {
    auto it = newest_.find(rank);
    if (it == newest_.end() || (final_only && !it->second.finished)) out.push_back(rank);
  }
  return out;
}

std::vector<std::pair<int, int>> JobReport::stopped_early() const {
  std::vector<std::pair<int, int>> out;
  int most = epochs_ended();
  for (const auto& [rank, r] : newest_)
    if (r.finished && !r.inert && r.epochs_ended < most) out.emplace_back(rank, r.epochs_ended);
  return out;
}

std::vector<EpochSummary> JobReport::epochs(int upto) const {
  std::vector<EpochSummary> out;
  for (const auto& [index, e] : epochs_) {
    if (index < 1 || index > upto) continue;
    EpochSummary s;
    s.index = index;
    s.duration_s = e.duration_s;
    s.joules = e.gpu_joules + e.cpu_joules;
    out.push_back(std::move(s));
  }
  return out;
}

double JobReport::component_joules(int upto, bool gpu) const {
  double j = 0.0;
  for (const auto& [index, e] : epochs_)
    if (index >= 1 && index <= upto) j += gpu ? e.gpu_joules : e.cpu_joules;
  return j;
}

Setup JobReport::setup() const {
  Setup s;
  for (const auto& [rank, r] : newest_) {
    s.duration_s = std::max(s.duration_s, r.setup_s);
    s.joules += r.setup_joules;
  }
  return s;
}

int JobReport::epochs_ended() const {
  int n = 0;
  for (const auto& [rank, r] : newest_) n = std::max(n, r.epochs_ended);
  return n;
}

double JobReport::total_s() const {
  double s = 0.0;
  for (const auto& [rank, r] : newest_) s = std::max(s, r.total_s);
  return s;
}

double JobReport::total_joules() const {
  double j = 0.0;
  for (const auto& [rank, r] : newest_) j += r.total_joules;
  return j;
}

}  // namespace epochwatt
