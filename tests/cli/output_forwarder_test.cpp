// The forwarder of the job's output with the epoch regexes: every byte goes out unchanged, and
// the lines handed to the epoch driver are whole lines, also when a line arrives in pieces over
// several reads, ends in CRLF, is a progress bar redrawn with '\r', or is the last line without
// its '\n'.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "cli/line_matcher.hpp"
#include "cli/output_forwarder.hpp"

namespace {

using epochwatt::cli::LineFilter;
using epochwatt::cli::LineMatcher;
using epochwatt::cli::OutputForwarder;
using epochwatt::cli::TerminalOutput;

// A forwarder reading a pipe we write into and writing to a pipe we read back; the lines that
// match `pattern` (checked as the epoch driver does) are collected.
class Forwarding {
 public:
  explicit Forwarding(const std::string& pattern) : matcher_("--epoch-regex", pattern), filter_({&matcher_}) {
    int in[2], out[2];
    EXPECT_EQ(::pipe(in), 0);
    EXPECT_EQ(::pipe(out), 0);
    write_fd_ = in[1];
    result_fd_ = out[0];
    our_fd_ = out[1];
    ::fcntl(result_fd_, F_SETFL, O_NONBLOCK);
    ::fcntl(result_fd_, F_SETPIPE_SZ, 1 << 20);  // all a test forwards, read back at its end
    forwarder_ = std::make_unique<OutputForwarder>(
        in[0], our_fd_, terminal_,
        [this](std::string_view line) {
          if (matcher_.matches(line)) matched.emplace_back(line);
        },
        &filter_);
  }
  ~Forwarding() {
    if (write_fd_ >= 0) ::close(write_fd_);
    ::close(our_fd_);
    ::close(result_fd_);
  }
  // Writes `bytes` into the pipe and has the forwarder read them (one read).
  void feed(const std::string& bytes) {
    ASSERT_EQ(::write(write_fd_, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
    ASSERT_TRUE(forwarder_->read_some(OutputForwarder::Clock::now()));
  }
  // The job ends: end of file, then what is left.
  void end() {
    ::close(write_fd_);
    write_fd_ = -1;
    while (forwarder_->fd() >= 0) forwarder_->read_some(OutputForwarder::Clock::now());
  }
  std::string forwarded() {
    std::string all;
    char buf[65536];
    for (ssize_t n; (n = ::read(result_fd_, buf, sizeof buf)) > 0;) all.append(buf, static_cast<std::size_t>(n));
    return all;
  }
  std::vector<std::string> matched;

 private:
  LineMatcher matcher_;
  LineFilter filter_;
  TerminalOutput terminal_;
  std::unique_ptr<OutputForwarder> forwarder_;
  int write_fd_ = -1, result_fd_ = -1, our_fd_ = -1;
};

TEST(OutputForwarder, StartAndEndLinesSplitAcrossReadsAreMatchedWhole) {
  for (const char* pattern : {"epoch \\d+ done", "^epoch \\d+ done$"}) {
    Forwarding f(pattern);
    f.feed("step 1\nepo");
    f.feed("ch 1 do");
    f.feed("ne\nstep 2\nepoch 2 done\nep");
    f.feed("och 3 done\r\n");
    f.feed("epoch 4 done");  // the last line, without its '\n'
    f.end();
    EXPECT_EQ(f.matched, (std::vector<std::string>{"epoch 1 done", "epoch 2 done", "epoch 3 done", "epoch 4 done"}))
        << pattern;
    EXPECT_EQ(f.forwarded(), "step 1\nepoch 1 done\nstep 2\nepoch 2 done\nepoch 3 done\r\nepoch 4 done") << pattern;
  }
}

TEST(OutputForwarder, ProgressBarRedrawnWithCarriageReturnsIsOneLine) {
  // tqdm: the bar is redrawn with '\r' and its '\n' comes when it closes, at the epoch's end.
  std::string bar = "Epoch 1:   0%|          | 0/3\rEpoch 1:  33%|###       | 1/3\rEpoch 1: 100%|##########| 3/3\n";
  for (const char* pattern : {"^Epoch [0-9]+:", "100%\\|", "3/3$"}) {
    Forwarding f(pattern);
    f.feed(bar.substr(0, 20));
    f.feed(bar.substr(20, 40));
    f.feed(bar.substr(60) + "Epoch 2:   0%|          | 0/3\r");
    f.feed("Epoch 2: 100%|##########| 3/3\n");
    f.end();
    ASSERT_EQ(f.matched.size(), 2u) << pattern;
    EXPECT_EQ(f.matched[0], bar.substr(0, bar.size() - 1)) << pattern;
    EXPECT_EQ(f.forwarded(), bar + "Epoch 2:   0%|          | 0/3\rEpoch 2: 100%|##########| 3/3\n") << pattern;
  }
}

TEST(OutputForwarder, OnlyTheFirstBytesOfAVeryLongLineAreMatched) {
  std::string head(LineMatcher::kMaxMatchedLine - 4, 'x');
  Forwarding early("^x+ epoch");
  early.feed(std::string(LineMatcher::kMaxMatchedLine - 20, 'x') + " epoch 1 done" + std::string(100000, 'y').substr(0, 60000));
  early.feed(std::string(40000, 'y') + "\n");
  early.end();
  EXPECT_EQ(early.matched.size(), 1u) << "' epoch' begins within the first bytes";
  Forwarding late("epoch 1 done");
  late.feed(head + " epoch 1 done\n");
  late.end();
  EXPECT_TRUE(late.matched.empty()) << "'epoch 1 done' ends beyond the matched prefix";
  EXPECT_EQ(late.forwarded(), head + " epoch 1 done\n") << "the line is forwarded whole all the same";
}

}  // namespace
