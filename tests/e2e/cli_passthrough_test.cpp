// The child's stdout reaches ours byte for byte, and its stderr arrives whole inside ours, both
// when it writes to our descriptors directly and when --epoch-regex reads them through pipes.
#include <gtest/gtest.h>

#include "e2e/cli_harness.hpp"

namespace {

using e2e::cli;
using e2e::TempDir;

// Every byte value, NUL and CR included, a CRLF line, a line longer than the forwarder's buffer,
// and no newline at the end.
std::string awkward_bytes(const std::string& tag) {
  std::string s = tag + " starts\r\n";
  for (int b = 0; b < 256; ++b) s += static_cast<char>(b);
  s += "\n" + std::string(70000, 'x') + "\nepoch 1 done\n";
  s += "partial line without newline " + tag;
  return s;
}

struct Payload {
  std::string out1, out2, err;
};

// The child writes part of stdout, pauses mid-line (longer than the 100 ms partial-line delay),
// writes the rest, then (after the tracker has printed its reports) its stderr.
e2e::Outcome run_child_writing(const TempDir& tmp, const Payload& p, std::vector<std::string> options) {
  e2e::write_file(tmp / "out1", p.out1);
  e2e::write_file(tmp / "out2", p.out2);
  e2e::write_file(tmp / "err", p.err);
  std::vector<std::string> args = {"--log_dir", tmp / "logs", "--sim-cpu", "X", "--sim-cpu-tdp", "1",
                                   "--components", "cpu"};
  args.insert(args.end(), options.begin(), options.end());
  for (const char* a : {"--", "sh", "-c", "cat \"$1\"; sleep 0.3; cat \"$2\"; sleep 0.3; cat \"$3\" >&2", "child"}) args.push_back(a);
  for (const char* f : {"out1", "out2", "err"}) args.push_back(tmp / f);
  return e2e::run(cli(args), tmp.path());
}

class CliPassthrough : public ::testing::TestWithParam<bool> {};

TEST_P(CliPassthrough, StdoutIsTheChildsByteForByteAndStderrArrivesWhole) {
  bool through_pipes = GetParam();
  TempDir tmp;
  Payload p{awkward_bytes("out1"), "...continued\n" + awkward_bytes("out2"), awkward_bytes("err")};
  std::vector<std::string> options;
  if (through_pipes) options = {"--epochs", "2", "--epoch-regex", "^epoch \\d+ done$"};
  auto r = run_child_writing(tmp, p, options);
  ASSERT_EQ(r.exit_status, 0) << r.err.substr(0, 2000);
  EXPECT_TRUE(r.out == p.out1 + p.out2) << "stdout differs: " << r.out.size() << " bytes instead of "
                                        << (p.out1 + p.out2).size();
  EXPECT_NE(r.err.find(p.err), std::string::npos) << "the child's stderr is not in ours in one piece";
  if (through_pipes) {
    // "epoch 1 done" is a line of out1, out2 and err: the first two end the two epochs; the
    // third comes after the end and changes nothing.
    EXPECT_NE(r.err.find("\nActual consumption for 2 epoch(s):\n"), std::string::npos) << r.err.substr(0, 2000);
  }
}

INSTANTIATE_TEST_SUITE_P(InheritedAndPiped, CliPassthrough, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "ThroughPipes" : "Inherited"; });

}  // namespace
