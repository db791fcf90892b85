// Our stdout and stderr, shared by two writers: the main thread, which forwards the child's output,
// and the tracker's sampler thread, which prints reports. Each write goes out whole under one
// lock, so a report line never lands in the middle of a forwarded line or the reverse.
#pragma once

#include <mutex>
#include <ostream>
#include <streambuf>
#include <string>
#include <string_view>

namespace epochwatt::cli {

// Thread-safe.
class TerminalOutput {
 public:
  // Writes all of `data` to `fd` (1 or 2). Returns false when the fd is gone for good (EPIPE,
  // EBADF ...); the caller decides what that means. SIGPIPE is ignored by main(), so a closed
  // reader shows up here as EPIPE instead of killing epochwatt before it reports.
  bool write_all(int fd, std::string_view data);
  // One line of epochwatt's own on stderr: "epochwatt: {message}\n".
  void message(std::string_view message);

 private:
  std::mutex mu_;
};

// A std::ostream for the tracker's console messages (Options::console). It collects what the
// tracker writes and hands it to TerminalOutput on each flush, which the tracker does after every
// message, so a multi-line report block reaches stderr in one piece.
class ConsoleStream : public std::ostream {
 public:
  ConsoleStream(TerminalOutput& out, int fd);
  ~ConsoleStream() override;

 private:
  class Buffer : public std::streambuf {
   public:
    Buffer(TerminalOutput& out, int fd) : out_(out), fd_(fd) {}

   protected:
    int_type overflow(int_type c) override;
    std::streamsize xsputn(const char* s, std::streamsize n) override;
    int sync() override;

   private:
    TerminalOutput& out_;
    int fd_;
    std::string pending_;
  };
  Buffer buffer_;
};

}  // namespace epochwatt::cli
