#include "core/bounded_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace epochwatt::detail {

BoundedFile read_bounded_file(const std::string& path, std::size_t max_bytes, bool no_follow) {
  BoundedFile f;
  // O_NONBLOCK: a FIFO in the file's place must not block the open (it fails the regular-file
  // check below); on a regular file the flag changes nothing.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | (no_follow ? O_NOFOLLOW : 0));
  if (fd < 0) {
    f.error = errno;
    f.status = (errno == ENOENT || errno == ENOTDIR) ? BoundedFile::Status::absent : BoundedFile::Status::open_failed;
    return f;
  }
  if (::fstat(fd, &f.st) != 0 || !S_ISREG(f.st.st_mode) || static_cast<std::size_t>(f.st.st_size) > max_bytes) {
    f.status = BoundedFile::Status::not_regular;
    ::close(fd);
    return f;
  }
  // Read to the end, not to st_size: procfs and sysfs files say 0 (or 4096) whatever they hold.
  // One byte more than max_bytes tells a file that grew past the bound since fstat.
  f.status = BoundedFile::Status::ok;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      f.error = errno;
      f.status = BoundedFile::Status::read_failed;
    }
    if (n <= 0) break;
    f.text.append(buf, static_cast<std::size_t>(n));
    if (f.text.size() > max_bytes) {
      f.text.clear();
      f.status = BoundedFile::Status::not_regular;
      break;
    }
  }
  ::close(fd);
  return f;
}

}  // namespace epochwatt::detail
