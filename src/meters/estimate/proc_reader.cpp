#include "meters/estimate/proc_reader.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstring>

#include "meters/sysfs/file_reader.hpp"

namespace epochwatt::meters {

bool parse_cpu_jiffies(std::string_view text, double* busy, double* total, std::string* why) {
  std::string_view line = text.substr(0, text.find('\n'));
  // "cpu" then blanks: "cpu0 ..." (one CPU) is not the machine's line.
  if (line.size() < 4 || line.compare(0, 3, "cpu") != 0 || (line[3] != ' ' && line[3] != '\t')) {
    *why = "no 'cpu' line first";
    return false;
  }
  double v[8] = {};
  const char* p = line.data() + 3;
  const char* end = line.data() + line.size();
  for (double& x : v) {
    while (p < end && (*p == ' ' || *p == '\t')) ++p;
    std::uint64_t n = 0;
    auto r = std::from_chars(p, end, n);
    if (r.ec != std::errc{}) break;  // fewer fields (an old kernel): the rest count 0
    x = static_cast<double>(n);
    p = r.ptr;
  }
  // user nice system idle iowait irq softirq steal
  *busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
  *total = *busy + v[3] + v[4];
  if (*total > 0) return true;
  *why = "the 'cpu' line counts no time";
  return false;
}

PreadFile::~PreadFile() { close_fd(); }

void PreadFile::close_fd() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool PreadFile::read_head(std::string_view* head, std::string* why) {
  if (fd_ < 0) {
    // O_NONBLOCK: a FIFO in the file's place must not block the open; it fails the check below.
    int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
      *why = std::strerror(errno);
      return false;
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      ReadResult refused{std::nullopt, EINVAL};
      refused.not_regular = true;
      refused.mode = st.st_mode;
      *why = read_error_text(refused);
      ::close(fd);
      return false;
    }
    fd_ = fd;
  }
  ssize_t n;
  do {
    n = ::pread(fd_, buf_, sizeof buf_, 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    *why = std::strerror(errno);
    close_fd();  // opened again at the next reading
    return false;
  }
  *head = std::string_view(buf_, static_cast<std::size_t>(n));
  return true;
}

}  // namespace epochwatt::meters
