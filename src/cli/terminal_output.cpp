#include "cli/terminal_output.hpp"

#include <poll.h>
#include <unistd.h>

#include <cerrno>

namespace epochwatt::cli {

namespace {
// Flush a message that never ends (no flush from the tracker) before it grows without bound.
constexpr std::size_t kMaxPending = 64 * 1024;
}  // namespace

bool TerminalOutput::write_all(int fd, std::string_view data) {
  std::lock_guard lk(mu_);
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n > 0) {
      data.remove_prefix(static_cast<std::size_t>(n));
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      // Someone handed us a non-blocking terminal or pipe: wait until it takes more.
      pollfd p{fd, POLLOUT, 0};
      ::poll(&p, 1, -1);
    } else {
      return false;
    }
  }
  return true;
}

void TerminalOutput::message(std::string_view message) {
  std::string line = "epochwatt: ";
  line += message;
  line += '\n';
  write_all(STDERR_FILENO, line);
}

ConsoleStream::ConsoleStream(TerminalOutput& out, int fd) : std::ostream(nullptr), buffer_(out, fd) {
  rdbuf(&buffer_);
}

ConsoleStream::~ConsoleStream() { buffer_.pubsync(); }

ConsoleStream::Buffer::int_type ConsoleStream::Buffer::overflow(int_type c) {
  if (traits_type::eq_int_type(c, traits_type::eof())) return traits_type::not_eof(c);
  pending_.push_back(traits_type::to_char_type(c));
  if (pending_.size() >= kMaxPending) sync();
  return c;
}

std::streamsize ConsoleStream::Buffer::xsputn(const char* s, std::streamsize n) {
  pending_.append(s, static_cast<std::size_t>(n));
  if (pending_.size() >= kMaxPending) sync();
  return n;
}

int ConsoleStream::Buffer::sync() {
  if (pending_.empty()) return 0;
  // A closed stderr is not a reason to stop measuring: the log files still get everything.
  out_.write_all(fd_, pending_);
  pending_.clear();
  return 0;
}

}  // namespace epochwatt::cli
