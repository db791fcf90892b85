// Finding the proc folder from the path a user gave (--proc-root, Options::proc_root), at any
// sensible level.
#pragma once

#include <string>

#include "meters/sysfs/file_reader.hpp"

namespace epochwatt::meters {

struct ProcRoot {
  std::string root;     // the folder to read <root>/stat, cpuinfo, meminfo and <root>/<pid>/stat from
  std::string note;     // how a path at an unexpected level was read; "" at the expected level
  std::string problem;  // why no level holds a system-wide stat, naming the level to give; "" if found
};

// The proc folder is the one whose `stat` starts with the machine's "cpu " line. Accepted, each with
// a one-line note: the folder itself (/proc); a file in it (/proc/stat, /proc/cpuinfo,
// /proc/meminfo); one level above (a container's bind root /host holding proc/); one level below
// (/proc/self or /proc/PID, whose `stat` is a process's). Otherwise `root` is the path as given and
// `problem` says which level to give. Reads at most four small files through `reader`.
ProcRoot locate_proc_root(const FileReader& reader, const std::string& given);

}  // namespace epochwatt::meters
