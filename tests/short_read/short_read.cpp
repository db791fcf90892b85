// libshort_read.so: an LD_PRELOAD test double that makes read() of a regular file return at most
// EW_SHORT_READ_BYTES bytes per call, as FUSE and NFS may do before the end of a file (POSIX allows
// a read of a regular file to return fewer bytes than asked). Other descriptors (pipes, sockets,
// terminals) are passed through unchanged. With EW_SHORT_READ_COUNT_FILE set, the number of reads
// it shortened is written there at exit, so that a test can see that the double was in effect.
// With a cap set, fstatfs() also says FUSE (FUSE_SUPER_MAGIC 0x65735546, linux/magic.h), as such a
// file system would: parse trusts a short read as the end only on local disk file systems.
#include <dlfcn.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>

namespace {

using ReadFn = ssize_t (*)(int, void*, size_t);

std::atomic<long> g_shortened{0};

size_t cap_bytes() {
  static const size_t cap = [] {
    const char* v = std::getenv("EW_SHORT_READ_BYTES");
    long n = v ? std::atol(v) : 0;
    return n > 0 ? static_cast<size_t>(n) : size_t{0};
  }();
  return cap;
}

struct CountAtExit {
  ~CountAtExit() {
    const char* path = std::getenv("EW_SHORT_READ_COUNT_FILE");
    if (!path) return;
    if (FILE* f = std::fopen(path, "w")) {
      std::fprintf(f, "%ld\n", g_shortened.load());
      std::fclose(f);
    }
  }
} g_count_at_exit;

}  // namespace

extern "C" __attribute__((visibility("default"))) ssize_t read(int fd, void* buf, size_t count) {
  static const ReadFn real = reinterpret_cast<ReadFn>(dlsym(RTLD_NEXT, "read"));
  size_t cap = cap_bytes();
  struct stat st {};
  if (cap > 0 && count > cap && fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
    count = cap;
    g_shortened.fetch_add(1);
  }
  return real(fd, buf, count);
}

extern "C" __attribute__((visibility("default"))) int fstatfs(int fd, struct statfs* buf) {
  using FstatfsFn = int (*)(int, struct statfs*);
  static const FstatfsFn real = reinterpret_cast<FstatfsFn>(dlsym(RTLD_NEXT, "fstatfs"));
  int rc = real(fd, buf);
  if (rc == 0 && cap_bytes() > 0) buf->f_type = 0x65735546;  // FUSE_SUPER_MAGIC
  return rc;
}
