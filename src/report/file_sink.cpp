#include "report/file_sink.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace epochwatt::detail {

int FileSink::stat(const std::string& path, struct ::stat* st) { return ::stat(path.c_str(), st); }
int FileSink::open(const std::string& path, int flags, mode_t mode) { return ::open(path.c_str(), flags, mode); }
ssize_t FileSink::write(int fd, const char* data, std::size_t n) { return ::write(fd, data, n); }
ssize_t FileSink::pread(int fd, char* data, std::size_t n, off_t at) { return ::pread(fd, data, n, at); }
int FileSink::fstat(int fd, struct ::stat* st) { return ::fstat(fd, st); }
int FileSink::ftruncate(int fd, off_t size) { return ::ftruncate(fd, size); }
int FileSink::lock(int fd) {
  int r;
  do r = ::flock(fd, LOCK_EX);
  while (r != 0 && errno == EINTR);
  return r;
}
int FileSink::close(int fd) { return ::close(fd); }
int FileSink::rename(const std::string& from, const std::string& to) { return ::rename(from.c_str(), to.c_str()); }
int FileSink::unlink(const std::string& path) { return ::unlink(path.c_str()); }
int FileSink::mkdirs(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (!ec) return 0;
  errno = ec.value();
  return -1;
}

std::shared_ptr<FileSink> system_file_sink() {
  static std::shared_ptr<FileSink> sink = std::make_shared<FileSink>();
  return sink;
}

std::string_view file_kind(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

namespace {

// Longest first or last line read for the checks; a longer one counts as foreign or cut.
constexpr std::size_t kLineProbe = 64 * 1024;

std::string errno_text(const char* what, const std::string& path, int e) {
  return std::string(what) + " " + path + ": " + std::strerror(e);
}

// The first line of the file (without "\n"; at most kLineProbe bytes), "" when unreadable.
std::string first_line(FileSink& sink, int fd) {
  std::string buf(kLineProbe, '\0');
  ssize_t n = sink.pread(fd, buf.data(), buf.size(), 0);
  if (n <= 0) return "";
  buf.resize(static_cast<std::size_t>(n));
  std::size_t nl = buf.find('\n');
  if (nl != std::string::npos) buf.resize(nl);
  if (!buf.empty() && buf.back() == '\r') buf.pop_back();
  return buf;
}

// The last line of a file of `size` bytes that does not end with "\n" (at most kLineProbe bytes:
// the end of a longer one). `whole_line` tells whether its beginning was seen.
std::string last_line(FileSink& sink, int fd, off_t size, bool* whole_line) {
  std::size_t len = static_cast<std::size_t>(std::min<off_t>(size, static_cast<off_t>(kLineProbe)));
  std::string buf(len, '\0');
  ssize_t n = sink.pread(fd, buf.data(), len, size - static_cast<off_t>(len));
  if (n < 0) n = 0;
  buf.resize(static_cast<std::size_t>(n));
  std::size_t nl = buf.rfind('\n');
  *whole_line = nl != std::string::npos || static_cast<off_t>(len) == size;
  return nl == std::string::npos ? buf : buf.substr(nl + 1);
}

// All of `text` through write(), continued after short writes and EINTR. Returns 0 or the errno.
int write_all(FileSink& sink, int fd, std::string_view text) {
  std::size_t done = 0;
  while (done < text.size()) {
    ssize_t n = sink.write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    if (n == 0) return ENOSPC;  // a regular file that takes nothing is full
    done += static_cast<std::size_t>(n);
  }
  return 0;
}

// The path's state before writing: 0 = missing, 1 = a regular file, or an error (not a regular
// file, cannot stat) in `*error`.
int probe(FileSink& sink, const std::string& path, std::string* error) {
  struct ::stat st {};
  if (sink.stat(path, &st) != 0) {
    if (errno == ENOENT) return 0;
    *error = errno_text("cannot inspect", path, errno);
    return -1;
  }
  if (!S_ISREG(st.st_mode)) {
    *error = path + " is " + std::string(file_kind(st.st_mode)) + ", not a regular file; nothing was written to it";
    return -1;
  }
  return 1;
}

std::string sibling(const std::string& path, int n) {
  if (n == 0) return path;
  namespace fs = std::filesystem;
  fs::path p(path);
  return (p.parent_path() / (p.stem().string() + "_" + std::to_string(n) + p.extension().string())).string();
}

std::string foreign_note(const std::string& path, const std::string& used) {
  return path + " holds something other than epochwatt's records; it was kept as it is and this run's records went to " +
         used + ".";
}

constexpr int kMaxSiblings = 999;

}  // namespace

WriteResult append_at_end(FileSink& sink, int fd, const std::string& path, const RecordFormat& format,
                          std::string_view text) {
  WriteResult res;
  res.written_path = path;
  // Without the lock (a file system without flock) a concurrent epochwatt may interleave the
  // checks below; each write is still one append.
  (void)sink.lock(fd);
  struct ::stat st {};
  if (sink.fstat(fd, &st) != 0) {
    res.error = errno_text("cannot inspect", path, errno);
    res.written_path.clear();
    return res;
  }
  std::string prefix;
  if (st.st_size > 0) {
    char last = '\n';
    if (sink.pread(fd, &last, 1, st.st_size - 1) == 1 && last != '\n') {
      bool seen_whole = false;
      std::string line = last_line(sink, fd, st.st_size, &seen_whole);
      bool whole = seen_whole && format.whole && format.whole(line);
      // push_back rather than `= "\n"`: g++ 12 -O3 -Wrestrict false positive (GCC bug 105651).
      if (whole) {
        prefix.push_back('\n');
      } else if (format.end_cut) {
        prefix = format.end_cut(line);
      } else {
        prefix.push_back('\n');
      }
      if (!whole) {
        res.note = path + " ended inside a record (cut off after " + std::to_string(line.size()) +
                   " bytes of its last line); that line was ended as it is and new records start on the next line.";
      }
    }
  }
  std::string all = prefix;
  all += text;
  if (int e = write_all(sink, fd, all); e != 0) {
    // Nothing half-written stays: the file ends where it ended before (or, if even the cut fails,
    // the next append ends the cut record first, as above).
    (void)sink.ftruncate(fd, st.st_size);
    res.error = errno_text("cannot write", path, e);
    res.written_path.clear();
    res.note.clear();
  }
  return res;
}

WriteResult append_record(FileSink& sink, const std::string& path, const RecordFormat& format, std::string_view record) {
  WriteResult res;
  for (int n = 0; n <= kMaxSiblings; ++n) {
    std::string candidate = sibling(path, n);
    std::string error;
    int state = probe(sink, candidate, &error);
    if (state < 0) {
      if (n == 0) {
        res.error = error;
        return res;
      }
      continue;  // a sibling in the way: the next one
    }
    // O_NONBLOCK: a FIFO put there since the probe makes open() fail instead of wait.
    int fd = sink.open(candidate, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0644);
    if (fd < 0) {
      res.error = errno_text("cannot open", candidate, errno);
      return res;
    }
    struct ::stat st {};
    if (sink.fstat(fd, &st) != 0) {
      res.error = errno_text("cannot inspect", candidate, errno);
      sink.close(fd);
      return res;
    }
    if (!S_ISREG(st.st_mode)) {  // replaced since the probe
      sink.close(fd);
      res.error = candidate + " is " + std::string(file_kind(st.st_mode)) + ", not a regular file; nothing was written to it";
      return res;
    }
    (void)sink.lock(fd);
    (void)sink.fstat(fd, &st);  // the size under the lock
    if (st.st_size > 0 && format.ours && !format.ours(first_line(sink, fd))) {
      sink.close(fd);
      continue;  // foreign: kept untouched
    }
    std::string text = st.st_size == 0 ? format.header : std::string();
    text += record;
    res = append_at_end(sink, fd, candidate, format, text);
    // A file this call made and could not write into is not left behind empty.
    if (!res.ok() && state == 0 && sink.fstat(fd, &st) == 0 && st.st_size == 0) (void)sink.unlink(candidate);
    if (sink.close(fd) != 0 && res.ok()) {
      res.error = errno_text("cannot write", candidate, errno);
      res.written_path.clear();
    }
    if (res.ok() && n > 0) res.note = foreign_note(path, candidate) + (res.note.empty() ? "" : " " + res.note);
    return res;
  }
  res.error = "no file beside " + path + " holds epochwatt's records (tried " + std::to_string(kMaxSiblings) + " siblings)";
  return res;
}

WriteResult replace_file(FileSink& sink, const std::string& path, const RecordFormat& format, std::string_view content) {
  return replace_file(sink, path, format, [content](const ContentSink& put) { put(content); });
}

WriteResult replace_file(FileSink& sink, const std::string& path, const RecordFormat& format,
                         const ContentProducer& produce) {
  WriteResult res;
  for (int n = 0; n <= kMaxSiblings; ++n) {
    std::string candidate = sibling(path, n);
    std::string error;
    int state = probe(sink, candidate, &error);
    if (state < 0) {
      if (n == 0) {
        res.error = error;
        return res;
      }
      continue;
    }
    if (state == 1 && format.ours) {
      int fd = sink.open(candidate, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0);
      if (fd >= 0) {
        struct ::stat st {};
        bool foreign = sink.fstat(fd, &st) == 0 && st.st_size > 0 && !format.ours(first_line(sink, fd));
        sink.close(fd);
        if (foreign) continue;
      }
    }
    // The temporary name is predictable, so it is created afresh (O_EXCL) and never through a
    // symbolic link (O_NOFOLLOW): a link planted there, in a shared folder, must not make us
    // truncate its target. What is in the way (a link, or our own leftover) is removed, once.
    std::string tmp = candidate + ".tmp." + std::to_string(static_cast<long>(::getpid()));
    constexpr int kTmpFlags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY;
    int fd = sink.open(tmp, kTmpFlags, 0644);
    if (fd < 0 && errno == EEXIST && sink.unlink(tmp) == 0) fd = sink.open(tmp, kTmpFlags, 0644);
    if (fd < 0) {
      res.error = errno_text("cannot create", tmp, errno);
      return res;
    }
    int e = 0;
    try {
      produce([&](std::string_view piece) {
        if (e == 0) e = write_all(sink, fd, piece);
        return e == 0;
      });
    } catch (...) {  // the producer failed (bad text, no memory): nothing half-written stays
      (void)sink.close(fd);
      (void)sink.unlink(tmp);
      throw;
    }
    if (sink.close(fd) != 0 && e == 0) e = errno;
    if (e != 0) {
      (void)sink.unlink(tmp);  // never left behind
      res.error = errno_text("cannot write", tmp, e) + " (removed)";
      return res;
    }
    if (sink.rename(tmp, candidate) != 0) {
      e = errno;
      (void)sink.unlink(tmp);
      res.error = "cannot rename " + tmp + " to " + candidate + ": " + std::strerror(e) + " (removed)";
      return res;
    }
    res.written_path = candidate;
    if (n > 0) res.note = foreign_note(path, candidate);
    return res;
  }
  res.error = "no file beside " + path + " holds epochwatt's records (tried " + std::to_string(kMaxSiblings) + " siblings)";
  return res;
}

}  // namespace epochwatt::detail
