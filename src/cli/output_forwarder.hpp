// Forwards one of the child's output streams to ours, byte for byte, and hands the complete lines
// that may match the epoch regexes to a callback. Used only with --epoch-regex or
// --epoch-start-regex; otherwise the child writes to our file descriptors directly.
//
// The bytes read are written out from the read buffer itself; only a line still unfinished at
// the end of a read is copied (kept until its end arrives). Lines are found in the same buffer:
// with a LineFilter, one RE2 search over all the complete lines of a read skips those that cannot
// match, so a job that prints a lot is not slowed down (docs/performance.md, "Forwarding and
// start-up (issue 13)").
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "cli/line_matcher.hpp"
#include "cli/terminal_output.hpp"

namespace epochwatt::cli {

// Not thread-safe: owned by the loop that polls the child (main thread).
class OutputForwarder {
 public:
  using Clock = std::chrono::steady_clock;
  using LineHandler = std::function<void(std::string_view line)>;

  // A partial line (a prompt, a progress bar redrawn with '\r') is forwarded at most this long
  // after its first byte arrived, even if the line never ends.
  static constexpr auto kPartialLineDelay = std::chrono::milliseconds(100);
  // Only the first bytes of a line are handed to on_line (LineMatcher::kMaxMatchedLine).
  static constexpr std::size_t kMaxMatchedLine = LineMatcher::kMaxMatchedLine;
  // Bytes read from the pipe at once: the whole pipe (child_process.cpp asks for 1 MiB), so that a
  // job that fills it is drained in one read. The buffer's pages are touched only as far as reads
  // fill them.
  static constexpr std::size_t kReadSize = 1024 * 1024;
  // An unfinished line is written out once this much of it waits (no endless buffering).
  static constexpr std::size_t kMaxHeldPartial = 64 * 1024;

  // Takes ownership of read_fd (the read end of the child's pipe) and writes to our_fd. on_line
  // receives each complete line (at most kMaxMatchedLine bytes, without its '\n' and without one
  // '\r' before it) that `filter` does not rule out; every line when `filter` is null or
  // every_line(). `filter`, when given, must outlive the forwarder.
  OutputForwarder(int read_fd, int our_fd, TerminalOutput& out, LineHandler on_line,
                  const LineFilter* filter = nullptr);
  ~OutputForwarder();
  OutputForwarder(const OutputForwarder&) = delete;
  OutputForwarder& operator=(const OutputForwarder&) = delete;

  // The pipe to poll; -1 once it reached end of file (or our side of it broke).
  int fd() const { return read_fd_; }
  // Bytes read from the pipe so far (forwarded or about to be).
  std::uint64_t bytes_read() const { return bytes_read_; }
  // Reads what the pipe holds (one read), forwards the complete lines, matches them. At end of
  // file it forwards and matches the rest and closes. Returns true if bytes were read.
  bool read_some(Clock::time_point now);
  // The last read found the pipe far from full (less than three quarters of its size, or of
  // kReadSize, or nothing): the caller may pause before the next round. False after a read that
  // emptied a (nearly) full pipe: the job is likely blocked on it, so read again at once.
  bool drained() const { return drained_; }
  // Forwards a partial line that has waited kPartialLineDelay.
  void flush_if_due(Clock::time_point now);
  // When flush_if_due() will have something to do; nullopt when nothing waits.
  std::optional<Clock::time_point> deadline() const;
  // The child is gone: forward and match whatever is left, then close the pipe.
  void finish();

 private:
  bool write_out(std::string_view bytes);
  void forward(std::size_t count);
  void match_lines(std::string_view bytes);
  void deliver(std::string_view line);
  void close_pipe();

  int read_fd_;
  std::uint64_t bytes_read_ = 0;
  int our_fd_;
  TerminalOutput& out_;
  LineHandler on_line_;
  const LineFilter* filter_;
  std::unique_ptr<char[]> buffer_;         // kReadSize bytes, allocated at the first read
  std::string unforwarded_;                // bytes read but not yet written to our_fd_ (a partial line)
  std::optional<Clock::time_point> partial_since_;
  std::string line_;                       // a line begun in an earlier read, for matching (capped)
  bool carrying_ = false;                  // line_ holds such a line (line_ may be capped: its size does not tell)
  bool drained_ = true;                    // see drained()
  std::size_t full_read_ = kReadSize;      // a read this long left more in the pipe: min(kReadSize, its size)
};

}  // namespace epochwatt::cli
