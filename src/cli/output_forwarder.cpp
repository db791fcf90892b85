#include "cli/output_forwarder.hpp"

#include <unistd.h>

#include <cerrno>

namespace epochwatt::cli {

OutputForwarder::OutputForwarder(int read_fd, int our_fd, TerminalOutput& out, LineHandler on_line)
    : read_fd_(read_fd), our_fd_(our_fd), out_(out), on_line_(std::move(on_line)) {}

OutputForwarder::~OutputForwarder() { close_pipe(); }

void OutputForwarder::close_pipe() {
  if (read_fd_ >= 0) ::close(read_fd_);
  read_fd_ = -1;
}

bool OutputForwarder::read_some(Clock::time_point now) {
  if (read_fd_ < 0) return false;
  char buf[64 * 1024];
  ssize_t n = ::read(read_fd_, buf, sizeof buf);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return false;
  if (n <= 0) {  // end of file (or an error that ends the stream just as well)
    finish();
    return false;
  }
  std::string_view bytes(buf, static_cast<std::size_t>(n));
  unforwarded_.append(bytes);
  // Complete lines go out at once; a partial line waits (kPartialLineDelay) for its end, so that
  // the tracker's messages on stderr do not cut it in two.
  auto last_newline = unforwarded_.rfind('\n');
  if (last_newline != std::string::npos) forward(last_newline + 1);
  if (!unforwarded_.empty() && !partial_since_) partial_since_ = now;
  if (unforwarded_.size() >= sizeof buf) forward(unforwarded_.size());  // no endless buffering
  // Forward before matching: the line is on the terminal before its epoch report.
  collect_lines(bytes);
  return true;
}

void OutputForwarder::forward(std::size_t count) {
  if (count == 0) return;
  if (!out_.write_all(our_fd_, std::string_view(unforwarded_).substr(0, count))) {
    // Our reader is gone (`epochwatt ... | head`). Close the pipe so that the child meets the
    // same EPIPE/SIGPIPE it would have met writing to our descriptor directly.
    unforwarded_.clear();
    partial_since_.reset();
    close_pipe();
    return;
  }
  unforwarded_.erase(0, count);
  if (unforwarded_.empty()) partial_since_.reset();
}

void OutputForwarder::collect_lines(std::string_view bytes) {
  while (!bytes.empty()) {
    auto newline = bytes.find('\n');
    std::string_view part = bytes.substr(0, newline);
    if (line_.size() < kMaxMatchedLine) line_.append(part.substr(0, kMaxMatchedLine - line_.size()));
    line_has_bytes_ = line_has_bytes_ || !part.empty();
    if (newline == std::string_view::npos) return;
    if (!line_.empty() && line_.back() == '\r') line_.pop_back();  // CRLF line ends
    if (on_line_) on_line_(line_);
    line_.clear();
    line_has_bytes_ = false;
    bytes.remove_prefix(newline + 1);
  }
}

void OutputForwarder::flush_if_due(Clock::time_point now) {
  if (partial_since_ && now - *partial_since_ >= kPartialLineDelay) forward(unforwarded_.size());
}

std::optional<OutputForwarder::Clock::time_point> OutputForwarder::deadline() const {
  if (!partial_since_) return std::nullopt;
  return *partial_since_ + kPartialLineDelay;
}

void OutputForwarder::finish() {
  forward(unforwarded_.size());
  // The last line may lack its '\n'; it is a line all the same.
  if (line_has_bytes_ && on_line_) {
    if (!line_.empty() && line_.back() == '\r') line_.pop_back();
    on_line_(line_);
  }
  line_.clear();
  line_has_bytes_ = false;
  close_pipe();
}

}  // namespace epochwatt::cli
