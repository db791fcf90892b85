// Reading a small file whole, for files that a user or another process may have replaced with
// something else: a folder, a FIFO, a huge file. One open, one fstat on the open descriptor (no
// race between the check and the read), reads retried on EINTR. Thread-safe: no shared state.
#pragma once

#include <sys/stat.h>

#include <cstddef>
#include <string>

namespace epochwatt::detail {

struct BoundedFile {
  enum class Status {
    ok,           // text holds the whole file
    absent,       // ENOENT, or ENOTDIR on a path component: the normal "not there"
    open_failed,  // any other open error (EACCES, ELOOP with no_follow, ...): error holds errno
    not_regular,  // not a regular file, or larger than max_bytes
    read_failed,  // read(2) failed: error holds errno
  };
  Status status = Status::absent;
  int error = 0;
  std::string text;
  struct stat st {};  // valid from not_regular on (what fstat said)
};

// `no_follow`: refuse a symbolic link as the last path component (O_NOFOLLOW: open_failed, ELOOP).
BoundedFile read_bounded_file(const std::string& path, std::size_t max_bytes, bool no_follow);

}  // namespace epochwatt::detail
