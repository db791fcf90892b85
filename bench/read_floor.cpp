// The floor of the parse-at-scale benchmark (docs/performance.md, "Parse at scale (issue 13)"):
// list a folder once (readdir) and open, read and close every regular file in it, nothing else.
// What `epochwatt parse DIR` costs beyond this is parsing, summing and writing.
//
//   read_floor DIR        prints the files and bytes read
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <string>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: read_floor DIR\n");
    return 2;
  }
  DIR* d = ::opendir(argv[1]);
  if (!d) {
    std::perror(argv[1]);
    return 1;
  }
  static char buf[1 << 16];
  long files = 0, bytes = 0;
  std::string path;
  while (const dirent* e = ::readdir(d)) {
    if (e->d_type != DT_REG) continue;
    path.assign(argv[1]).append("/").append(e->d_name);
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) bytes += n;
    ::close(fd);
    ++files;
  }
  ::closedir(d);
  std::printf("%ld files, %ld bytes\n", files, bytes);
  return 0;
}
