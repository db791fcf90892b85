// Forwards one of the child's output streams to ours, byte for byte, and hands each complete line
// to a callback (the epoch regex). Used only with --epoch-regex; otherwise the child writes to our
// file descriptors directly.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

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
  // Only the first bytes of a line are matched: libstdc++'s std::regex recurses per character and
  // overflows the stack on lines of some 10 000 characters. Epoch lines are short.
  static constexpr std::size_t kMaxMatchedLine = 4096;

  // Takes ownership of read_fd (the read end of the child's pipe) and writes to our_fd.
  OutputForwarder(int read_fd, int our_fd, TerminalOutput& out, LineHandler on_line);
  ~OutputForwarder();
  OutputForwarder(const OutputForwarder&) = delete;
  OutputForwarder& operator=(const OutputForwarder&) = delete;

  // The pipe to poll; -1 once it reached end of file (or our side of it broke).
  int fd() const { return read_fd_; }
  // Reads what the pipe holds (one read), forwards the complete lines, matches them. At end of
  // file it forwards and matches the rest and closes. Returns true if bytes were read.
  bool read_some(Clock::time_point now);
  // Forwards a partial line that has waited kPartialLineDelay.
  void flush_if_due(Clock::time_point now);
  // When flush_if_due() will have something to do; nullopt when nothing waits.
  std::optional<Clock::time_point> deadline() const;
  // The child is gone: forward and match whatever is left, then close the pipe.
  void finish();

 private:
  void forward(std::size_t count);
  void collect_lines(std::string_view bytes);
  void close_pipe();

  int read_fd_;
  int our_fd_;
  TerminalOutput& out_;
  LineHandler on_line_;
  std::string unforwarded_;                // bytes read but not yet written to our_fd_
  std::optional<Clock::time_point> partial_since_;
  std::string line_;                       // the line being collected for matching (capped)
  bool line_has_bytes_ = false;            // line_ may be capped, so its size does not tell
};

}  // namespace epochwatt::cli
