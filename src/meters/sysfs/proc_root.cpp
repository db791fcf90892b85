#include "meters/sysfs/proc_root.hpp"

namespace epochwatt::meters {
namespace {

std::string without_trailing_slash(std::string p) {
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  return p;
}

std::string parent_of(const std::string& p) {
  auto slash = p.rfind('/');
  return slash == std::string::npos ? "." : slash == 0 ? "/" : p.substr(0, slash);
}

// <dir>/stat is the kernel's system-wide statistics file ("cpu  ..." first), not a process's.
bool holds_system_stat(const FileReader& reader, const std::string& dir) {
  auto text = reader.read((dir == "/" ? "" : dir) + "/stat").text;
  return text && text->rfind("cpu ", 0) == 0;
}

}  // namespace

ProcRoot locate_proc_root(const FileReader& reader, const std::string& given) {
  ProcRoot out;
  std::string root = without_trailing_slash(given);
  out.root = root;
  if (holds_system_stat(reader, root)) return out;
  std::string base = root.substr(root.rfind('/') + 1), parent = parent_of(root);
  if ((base == "stat" || base == "cpuinfo" || base == "meminfo") && holds_system_stat(reader, parent)) {
    out.root = parent;
    out.note = given + " is a file of the proc folder; read " + parent;
  } else if (holds_system_stat(reader, root + "/proc")) {
    out.root = root + "/proc";
    out.note = given + " is one level above the proc folder; read " + out.root;
  } else if (root != parent && holds_system_stat(reader, parent)) {
    out.root = parent;
    out.note = given + " is one level below the proc folder (a process's own); read " + parent;
  } else {
    out.problem = given + " holds no system-wide stat file (one whose first line starts with \"cpu \"): give the "
                          "proc folder (normally /proc)";
  }
  return out;
}

}  // namespace epochwatt::meters
