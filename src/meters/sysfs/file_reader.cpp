#include "meters/sysfs/file_reader.hpp"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>

#include "core/bounded_file.hpp"

namespace epochwatt::meters {
namespace {

class RealFileReader final : public FileReader {
 public:
  ReadResult read(const std::string& path) const override {
    // Opened with O_NONBLOCK, anything but a regular file refused, read to the end (procfs and
    // sysfs sizes say nothing) up to kMaxReadBytes: core/bounded_file.hpp.
    detail::BoundedFile f = detail::read_bounded_file(path, kMaxReadBytes, /*no_follow=*/false);
    switch (f.status) {
      case detail::BoundedFile::Status::ok: return {std::move(f.text), 0};
      case detail::BoundedFile::Status::not_regular: {
        ReadResult refused{std::nullopt, EINVAL};
        refused.not_regular = true;
        refused.mode = f.st.st_mode;
        return refused;
      }
      default: return {std::nullopt, f.error ? f.error : EIO};
    }
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

std::string read_error_text(const ReadResult& r) {
  if (!r.not_regular) return std::strerror(r.error);
  if (S_ISREG(r.mode)) return "larger than " + std::to_string(kMaxReadBytes >> 20) + " MiB; refused";
  const char* kind = S_ISFIFO(r.mode) ? "a FIFO" : S_ISDIR(r.mode) ? "a directory" : S_ISSOCK(r.mode) ? "a socket"
                     : S_ISCHR(r.mode) || S_ISBLK(r.mode) ? "a device" : "not a file";
  return std::string("not a regular file (") + kind + "); refused, as reading it could block";
}

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
