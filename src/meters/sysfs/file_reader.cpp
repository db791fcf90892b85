#include "meters/sysfs/file_reader.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>

namespace epochwatt::meters {
namespace {

class RealFileReader final : public FileReader {
 public:
  ReadResult read(const std::string& path) const override {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return {std::nullopt, errno};
    std::string out;
    char buf[4096];
    for (;;) {
      ssize_t n = ::read(fd, buf, sizeof buf);
      if (n < 0) {
        if (errno == EINTR) continue;
        int e = errno;
        ::close(fd);
        return {std::nullopt, e};
      }
      if (n == 0) break;
      out.append(buf, static_cast<std::size_t>(n));
      if (out.size() > (1u << 20)) break;  // sysfs files are small; never read a huge file whole
    }
    ::close(fd);
    return {std::move(out), 0};
  }
  std::vector<std::string> list(const std::string& dir, int* error) const override {
    std::vector<std::string> names;
    DIR* d = ::opendir(dir.c_str());
    if (!d) {
      if (error) *error = errno;
      return names;
    }
    while (dirent* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (n != "." && n != "..") names.push_back(n);
    }
    ::closedir(d);
    std::sort(names.begin(), names.end());
    if (error) *error = 0;
    return names;
  }
};

}  // namespace

std::shared_ptr<FileReader> real_file_reader() {
  static auto reader = std::make_shared<RealFileReader>();
  return reader;
}

std::optional<std::uint64_t> parse_u64(const std::string& text) {
  std::size_t b = 0, e = text.size();
  while (b < e && (text[b] == ' ' || text[b] == '\t')) ++b;
  while (e > b && (text[e - 1] == '\n' || text[e - 1] == ' ' || text[e - 1] == '\r')) --e;
  if (b == e) return std::nullopt;
  std::uint64_t v = 0;
  auto res = std::from_chars(text.data() + b, text.data() + e, v);
  if (res.ec != std::errc{} || res.ptr != text.data() + e) return std::nullopt;
  return v;
}

}  // namespace epochwatt::meters
