// The one seam through which backends read sysfs and procfs files, so that tests can inject
// failures (permission denied, vanished files) that root cannot otherwise provoke.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace epochwatt::meters {

struct ReadResult {
  std::optional<std::string> text;  // the file's content, when the read succeeded
  int error = 0;                    // errno of the failure (ENOENT, EACCES, ...)
  // The path is not a regular file (a FIFO, a socket, a device, a directory): refused without
  // reading, since a read could block for ever (error is then EINVAL).
  bool not_regular = false;
  unsigned mode = 0;  // st_mode of what was found, when not_regular
};

// The failure in words, for "PATH: <this>": strerror, or "not a regular file (a FIFO); refused".
std::string read_error_text(const ReadResult& r);

// Thread-safety: implementations must allow concurrent calls (discovery may run beside reads).
class FileReader {
 public:
  virtual ~FileReader() = default;
  virtual ReadResult read(const std::string& path) const = 0;
  // Entries of a directory (names only, sorted); empty on error with *error set.
  virtual std::vector<std::string> list(const std::string& dir, int* error) const = 0;
};

// Reads the real file system with open/read (no buffering, no sleeping, never blocking): each
// file is opened with O_NONBLOCK, anything but a regular file is refused (sysfs and procfs
// attributes are regular files), and at most kMaxReadBytes are read.
inline constexpr std::size_t kMaxReadBytes = 1u << 20;  // sysfs files are at most a page; /proc/stat tens of KiB
std::shared_ptr<FileReader> real_file_reader();

// Parse a sysfs integer file ("12345\n"); nullopt on garbage.
std::optional<std::uint64_t> parse_u64(const std::string& text);

}  // namespace epochwatt::meters
