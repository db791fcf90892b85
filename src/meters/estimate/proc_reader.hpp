// The CPU estimate's reading of /proc/stat, cheap enough for every sampler round: the file stays
// open and is read again with pread at offset 0 (procfs builds a seq_file anew for a read at
// offset 0) into a fixed buffer, and only the first line is parsed, with std::from_chars. No
// open/close, no allocation and no stream per reading.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace epochwatt::meters {

// Busy and total jiffies of the whole machine, from the first line of /proc/stat ("cpu  user nice
// system idle iowait irq softirq steal ..."): busy = user + nice + system + irq + softirq +
// steal, total = busy + idle + iowait; fields past the end count 0. False, with *why, when the
// text does not start with a "cpu" line or the total is 0.
bool parse_cpu_jiffies(std::string_view text, double* busy, double* total, std::string* why);

// One file kept open and read from its start with pread. Refuses what is not a regular file
// (a FIFO could block) as FileReader does. Not thread-safe: owned by one meter.
class PreadFile {
 public:
  // Room for the first line of /proc/stat: "cpu " and ten 20-digit counters fit in 230 bytes.
  static constexpr std::size_t kBytes = 512;

  explicit PreadFile(std::string path) : path_(std::move(path)) {}
  ~PreadFile();
  PreadFile(const PreadFile&) = delete;
  PreadFile& operator=(const PreadFile&) = delete;

  // The first kBytes of the file (less if it is shorter). Opens it on first use, and again after
  // a failed read; on failure returns false with *why ("No such file or directory", "not a
  // regular file (a FIFO); refused ...").
  bool read_head(std::string_view* head, std::string* why);
  const std::string& path() const { return path_; }
  bool is_open() const { return fd_ >= 0; }

 private:
  void close_fd();
  std::string path_;
  int fd_ = -1;
  char buf_[kBytes];
};

}  // namespace epochwatt::meters
