#include "meters/sysfs/process_tree.hpp"

#include <cctype>
#include <set>
#include <sstream>
#include <unordered_map>

namespace epochwatt::meters {
namespace {

std::optional<pid_t> parse_pid(const std::string& s) {
  if (s.empty() || s.size() > 9) return std::nullopt;
  for (char c : s)
    if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
  return static_cast<pid_t>(std::stol(s));
}

}  // namespace

std::optional<std::vector<std::string>> proc_stat_fields(pid_t pid, const std::string& proc_root,
                                                         const FileReader& reader) {
  ReadResult r = reader.read(proc_root + "/" + std::to_string(pid) + "/stat");
  if (!r.text) return std::nullopt;  // exited meanwhile, or hidden
  std::size_t close = r.text->rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream in(r.text->substr(close + 1));
  std::vector<std::string> fields;
  for (std::string f; in >> f;) fields.push_back(f);
  if (fields.size() < 2) return std::nullopt;
  return fields;
}

std::vector<pid_t> process_tree(pid_t root, const std::string& proc_root, const FileReader& reader) {
  int err = 0;
  std::unordered_map<pid_t, std::vector<pid_t>> children;
  for (const auto& name : reader.list(proc_root, &err)) {
    auto pid = parse_pid(name);
    if (!pid) continue;
    auto fields = proc_stat_fields(*pid, proc_root, reader);
    if (!fields) continue;
    auto ppid = parse_pid((*fields)[1]);
    if (ppid) children[*ppid].push_back(*pid);
  }
  std::vector<pid_t> out{root};
  std::set<pid_t> seen{root};
  for (std::size_t i = 0; i < out.size(); ++i) {
    auto it = children.find(out[i]);
    if (it == children.end()) continue;
    for (pid_t c : it->second)
      if (seen.insert(c).second) out.push_back(c);
  }
  return out;
}

}  // namespace epochwatt::meters
