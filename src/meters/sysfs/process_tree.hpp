// The tracked process tree, read from procfs through the FileReader seam; shared by the NVML
// backend (devices_by_pid) and the CPU estimate (process-tree utilisation).
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "meters/sysfs/file_reader.hpp"

namespace epochwatt::meters {

// The PIDs of root and all its descendants, root first, from <proc_root>/*/stat (parent PID
// field). A PID whose stat cannot be read (it exited meanwhile) is skipped.
std::vector<pid_t> process_tree(pid_t root, const std::string& proc_root, const FileReader& reader);

// The fields of one /proc/PID/stat line after the command name ("pid (comm) state ppid ..."),
// split on spaces: [0] state, [1] ppid, ... [11] utime, [12] stime, [13] cutime, [14] cstime.
// Parsed after the last ')', since comm may hold spaces and parentheses. nullopt if unreadable.
std::optional<std::vector<std::string>> proc_stat_fields(pid_t pid, const std::string& proc_root,
                                                         const FileReader& reader);

}  // namespace epochwatt::meters
