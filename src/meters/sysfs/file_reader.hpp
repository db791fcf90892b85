// The one seam through which backends read sysfs and procfs files, so that tests can inject
// failures (permission denied, vanished files) that root cannot otherwise provoke.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace epochwatt::meters {

struct ReadResult {
  std::optional<std::string> text;  // the file's content, when the read succeeded
  int error = 0;                    // errno of the failure (ENOENT, EACCES, ...)
};

// Thread-safety: implementations must allow concurrent calls (discovery may run beside reads).
class FileReader {
 public:
  virtual ~FileReader() = default;
  virtual ReadResult read(const std::string& path) const = 0;
  // Entries of a directory (names only, sorted); empty on error with *error set.
  virtual std::vector<std::string> list(const std::string& dir, int* error) const = 0;
};

// Reads the real file system with open/read (no buffering, no sleeping).
std::shared_ptr<FileReader> real_file_reader();

// Parse a sysfs integer file ("12345\n"); nullopt on garbage.
std::optional<std::uint64_t> parse_u64(const std::string& text);

}  // namespace epochwatt::meters
