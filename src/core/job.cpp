// detect_job(): this process's place in its job (include/epochwatt/job.hpp, docs/cluster.md).
#include "epochwatt/job.hpp"

#include <unistd.h>

#include <cstdlib>

#include "epochwatt/errors.hpp"
#include "epochwatt/options.hpp"

namespace epochwatt {
namespace {

std::optional<std::string> lookup(const EnvLookup& env, std::string_view name) {
  if (env) return env(name);
  const char* v = std::getenv(std::string(name).c_str());
  if (!v) return std::nullopt;
  return std::string(v);
}

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "";
  return buf;
}

}  // namespace

JobIdentity detect_job(const Options& o, const EnvLookup& env) {
  JobIdentity id;
  if (auto v = lookup(env, "EPOCHWATT_NODE"); v && !v->empty()) id.node = *v;
  if (!o.node.empty()) id.node = o.node;
  if (id.node.empty()) id.node = host_name();
  if (o.independent) return id;
  bool any = false;
  auto set = [&](const std::optional<int>& from, int& to) {
    if (from) to = *from, any = true;
  };
  set(o.rank, id.rank);
  set(o.local_rank, id.local_rank);
  set(o.world_size, id.world_size);
  set(o.local_world_size, id.local_world_size);
  if (!o.job_id.empty()) id.job_id = o.job_id, any = true;
  if (!o.step_id.empty()) id.step_id = o.step_id, any = true;
  if (any) id.launcher = "options";
  if (id.world_size < 1 || id.rank < 0 || id.rank >= id.world_size)
    throw OptionsError("rank " + std::to_string(id.rank) + " is not within a world of " +
                       std::to_string(id.world_size) + " processes.");
  if (id.local_world_size < 1 || id.local_rank < 0 || id.local_rank >= id.local_world_size ||
      id.local_world_size > id.world_size)
    throw OptionsError("local rank " + std::to_string(id.local_rank) + " is not within " +
                       std::to_string(id.local_world_size) + " processes on the node (world of " +
                       std::to_string(id.world_size) + ").");
  return id;
}

}  // namespace epochwatt
