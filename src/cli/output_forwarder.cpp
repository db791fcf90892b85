#include "cli/output_forwarder.hpp"

#include <fcntl.h>   // F_GETPIPE_SZ (GNU)
#include <string.h>  // memrchr (GNU)
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace epochwatt::cli {
namespace {

// The offset of the last '\n' in `bytes`, or npos.
std::size_t last_newline(std::string_view bytes) {
  if (bytes.empty()) return std::string_view::npos;
  const void* p = ::memrchr(bytes.data(), '\n', bytes.size());
  return p ? static_cast<std::size_t>(static_cast<const char*>(p) - bytes.data()) : std::string_view::npos;
}

}  // namespace

OutputForwarder::OutputForwarder(int read_fd, int our_fd, TerminalOutput& out, LineHandler on_line,
                                 const LineFilter* filter)
    : read_fd_(read_fd), our_fd_(our_fd), out_(out), on_line_(std::move(on_line)), filter_(filter) {}

OutputForwarder::~OutputForwarder() { close_pipe(); }

void OutputForwarder::close_pipe() {
  if (read_fd_ >= 0) ::close(read_fd_);
  read_fd_ = -1;
}

bool OutputForwarder::read_some(Clock::time_point now) {
  if (read_fd_ < 0) return false;
  // new char[] leaves the bytes uninitialised: only the pages a read fills become resident.
  if (!buffer_) {
    buffer_.reset(new char[kReadSize]);
    // A pipe smaller than the buffer (F_SETPIPE_SZ refused) is full at its own size.
    int pipe_size = ::fcntl(read_fd_, F_GETPIPE_SZ);
    if (pipe_size > 0) full_read_ = std::min(kReadSize, static_cast<std::size_t>(pipe_size));
  }
  ssize_t n = ::read(read_fd_, buffer_.get(), kReadSize);
  // Three quarters: a pipe is full when its page slots are, and small writes leave pages part
  // empty, so a full pipe may hold somewhat less than its size.
  drained_ = n < static_cast<ssize_t>(full_read_ / 4 * 3);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return false;
  if (n <= 0) {  // end of file (or an error that ends the stream just as well)
    finish();
    return false;
  }
  bytes_read_ += static_cast<std::uint64_t>(n);
  std::string_view bytes(buffer_.get(), static_cast<std::size_t>(n));
  // Complete lines go out at once, from the buffer they were read into; a partial line waits
  // (kPartialLineDelay) for its end, so that the tracker's messages on stderr do not cut it in two.
  std::string_view tail = bytes;
  if (auto newline = last_newline(bytes); newline != std::string_view::npos) {
    std::string_view complete = bytes.substr(0, newline + 1);
    tail = bytes.substr(newline + 1);
    if (unforwarded_.empty()) {
      write_out(complete);
    } else {
      unforwarded_.append(complete);  // the partial line before it goes out first, in the same write
      forward(unforwarded_.size());
    }
  }
  if (read_fd_ >= 0) unforwarded_.append(tail);  // else our reader is gone: nothing more goes out
  if (!unforwarded_.empty() && !partial_since_) partial_since_ = now;
  if (unforwarded_.size() >= kMaxHeldPartial) forward(unforwarded_.size());  // no endless buffering
  // Forward before matching: the line is on the terminal before its epoch report.
  match_lines(bytes);
  return true;
}

bool OutputForwarder::write_out(std::string_view bytes) {
  if (out_.write_all(our_fd_, bytes)) return true;
  // Our reader is gone (`epochwatt ... | head`). Close the pipe so that the child meets the same
  // EPIPE/SIGPIPE it would have met writing to our descriptor directly.
  unforwarded_.clear();
  partial_since_.reset();
  close_pipe();
  return false;
}

void OutputForwarder::forward(std::size_t count) {
  if (count == 0) return;
  if (!write_out(std::string_view(unforwarded_).substr(0, count))) return;
  unforwarded_.erase(0, count);
  if (unforwarded_.empty()) partial_since_.reset();
}

void OutputForwarder::match_lines(std::string_view bytes) {
  if (!on_line_) return;
  if (carrying_) {  // the end of a line begun in an earlier read
    auto newline = bytes.find('\n');
    std::string_view part = bytes.substr(0, newline);
    if (line_.size() < kMaxMatchedLine) line_.append(part.substr(0, kMaxMatchedLine - line_.size()));
    if (newline == std::string_view::npos) return;
    deliver(line_);
    line_.clear();
    carrying_ = false;
    bytes.remove_prefix(newline + 1);
  }
  auto last = last_newline(bytes);
  std::string_view complete = last == std::string_view::npos ? std::string_view() : bytes.substr(0, last + 1);
  std::string_view rest = last == std::string_view::npos ? bytes : bytes.substr(last + 1);
  bool every_line = !filter_ || filter_->every_line();
  while (!complete.empty()) {
    if (!every_line) {
      auto at = filter_->next_candidate(complete);
      if (at == std::string_view::npos) break;  // no line left in this read can match
      complete.remove_prefix(at);
    }
    auto newline = complete.find('\n');  // there is one: `complete` ends with '\n'
    deliver(complete.substr(0, newline));
    complete.remove_prefix(newline + 1);
  }
  if (!rest.empty()) {  // a line that ends in a later read: its first bytes are kept
    line_.assign(rest.substr(0, kMaxMatchedLine));
    carrying_ = true;
  }
}

void OutputForwarder::deliver(std::string_view line) {
  line = line.substr(0, kMaxMatchedLine);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);  // CRLF line ends
  on_line_(line);
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
  if (carrying_ && on_line_) deliver(line_);
  line_.clear();
  carrying_ = false;
  close_pipe();
}

}  // namespace epochwatt::cli
