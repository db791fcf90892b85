#include "report/job_line.hpp"

#include <nlohmann/json.hpp>

namespace epochwatt::detail {

std::string job_line(const JobIdentity& job) {
  nlohmann::ordered_json j;
  j["job_id"] = job.job_id;
  j["step_id"] = job.step_id;
  j["rank"] = job.rank;
  j["local_rank"] = job.local_rank;
  j["world_size"] = job.world_size;
  j["local_world_size"] = job.local_world_size;
  j["node"] = job.node;
  j["node_rank"] = job.node_rank;
  j["launcher"] = job.launcher;
  return std::string(kJobLinePrefix) + j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::optional<JobIdentity> parse_job_line(std::string_view message, std::string* error) {
  auto fail = [&](const std::string& why) -> std::optional<JobIdentity> {
    if (error) *error = why;
    return std::nullopt;
  };
  if (!message.starts_with(kJobLinePrefix)) return fail("not a job line");
  message.remove_prefix(kJobLinePrefix.size());
  nlohmann::json j = nlohmann::json::parse(message, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return fail("the job identity is not a JSON object");
  JobIdentity out;
  std::string bad;
  auto text = [&](const char* key, std::string& into) {
    auto it = j.find(key);
    if (it == j.end()) return;
    if (it->is_string()) into = it->get<std::string>();
    else if (bad.empty()) bad = std::string(key) + " is not a string";
  };
  auto number = [&](const char* key, int& into) {
    auto it = j.find(key);
    if (it == j.end()) return;
    if (it->is_number_integer() && it->get<long long>() >= -1 && it->get<long long>() <= 1'000'000'000)
      into = static_cast<int>(it->get<long long>());
    else if (bad.empty()) bad = std::string(key) + " is not an integer from -1 to 1e9";
  };
  text("job_id", out.job_id);
  text("step_id", out.step_id);
  number("rank", out.rank);
  number("local_rank", out.local_rank);
  number("world_size", out.world_size);
  number("local_world_size", out.local_world_size);
  text("node", out.node);
  number("node_rank", out.node_rank);
  text("launcher", out.launcher);
  if (!bad.empty()) return fail(bad);
  if (out.world_size < 1) return fail("world_size below 1");
  if (out.rank < 0 || out.rank >= out.world_size)
    return fail("rank " + std::to_string(out.rank) + " outside 0.." + std::to_string(out.world_size - 1));
  return out;
}

std::string shared_meters_line(const std::vector<MeterInfo>& meters) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  for (const auto& m : meters)
    if (!m.shared.empty()) j[m.id] = m.shared;
  if (j.empty()) return "";
  return std::string(kSharedMetersPrefix) + j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::optional<std::vector<std::string>> parse_shared_meters_line(std::string_view message, std::string* error) {
  if (!message.starts_with(kSharedMetersPrefix)) {
    if (error) *error = "not a shared-meters line";
    return std::nullopt;
  }
  message.remove_prefix(kSharedMetersPrefix.size());
  nlohmann::ordered_json j = nlohmann::ordered_json::parse(message, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) {
    if (error) *error = "the shared meters are not a JSON object";
    return std::nullopt;
  }
  std::vector<std::string> ids;
  for (auto it = j.begin(); it != j.end(); ++it) ids.push_back(it.key());
  return ids;
}

std::string rank_file_tag(const JobIdentity& job) {
  return job.multi_process() && job.rank != 0 ? "rank" + std::to_string(job.rank) : "";
}

}  // namespace epochwatt::detail
