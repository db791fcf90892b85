// The epoch regexes (RE2) and the search for candidate lines over whole reads (LineFilter): a
// refused pattern gives one line naming the flag, the pattern and RE2's reason; the lines the
// filter hands on, checked with LineMatcher::matches(), are exactly the lines that a search line
// by line accepts, on output with CRLF lines, '\r' progress bars, long lines and binary bytes.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "cli/command_line.hpp"
#include "cli/line_matcher.hpp"

namespace {

using epochwatt::cli::CliError;
using epochwatt::cli::first_cut_line;
using epochwatt::cli::LineFilter;
using epochwatt::cli::LineMatcher;

std::string refusal(const std::string& flag, const std::string& pattern) {
  try {
    LineMatcher m(flag, pattern);
  } catch (const CliError& e) {
    return e.what();
  }
  return "";
}

TEST(LineMatcher, ARefusedPatternIsOneLineWithFlagPatternAndReason) {
  EXPECT_EQ(refusal("--epoch-regex", "epoch ("),
            "--epoch-regex: invalid regular expression 'epoch (': missing ): epoch ( (RE2 syntax, which has no "
            "backreferences and no lookaround: see docs/cli.md)");
  std::string backreference = refusal("--epoch-start-regex", "(a)\\1");
  EXPECT_EQ(backreference.rfind("--epoch-start-regex: invalid regular expression '(a)\\1': invalid escape sequence: \\1", 0), 0u)
      << backreference;
  std::string lookahead = refusal("--epoch-regex", "epoch(?= done)");
  EXPECT_NE(lookahead.find("invalid perl operator: (?="), std::string::npos) << lookahead;
  for (const auto& message : {backreference, lookahead}) EXPECT_EQ(message.find('\n'), std::string::npos) << message;
}

TEST(LineMatcher, SearchesTheLineWithAnchorsAtItsEnds) {
  LineMatcher anywhere("--epoch-regex", "epoch \\d+ done");
  EXPECT_TRUE(anywhere.matches("epoch 12 done"));
  EXPECT_TRUE(anywhere.matches("[rank 0] epoch 3 done, loss 0.1"));
  EXPECT_FALSE(anywhere.matches("epoch x done"));
  LineMatcher anchored("--epoch-regex", "^Epoch [0-9]+:$");
  EXPECT_TRUE(anchored.matches("Epoch 3:"));
  EXPECT_FALSE(anchored.matches(" Epoch 3:"));
  EXPECT_FALSE(anchored.matches("Epoch 3: "));
  // ECMAScript and Perl escapes RE2 shares: \d, \w, \s, \b, non-greedy, (?i).
  LineMatcher perl("--epoch-regex", "(?i)\\bepoch\\s+\\w+?\\b");
  EXPECT_TRUE(perl.matches("EPOCH  one"));
  EXPECT_FALSE(perl.matches("preepoch one"));
}

// What the forwarder does with a read of complete lines: the candidates from the filter, checked.
std::vector<std::string> matched_through_filter(const LineFilter& filter, const std::vector<const LineMatcher*>& ms,
                                                std::string_view lines) {
  std::vector<std::string> out;
  auto check = [&](std::string_view line) {
    line = line.substr(0, LineMatcher::kMaxMatchedLine);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    for (const auto* m : ms)
      if (m->matches(line)) {
        out.emplace_back(line);
        return;
      }
  };
  while (!lines.empty()) {
    if (!filter.every_line()) {
      auto at = filter.next_candidate(lines);
      if (at == std::string_view::npos) break;
      lines.remove_prefix(at);
    }
    auto newline = lines.find('\n');
    check(lines.substr(0, newline));
    lines.remove_prefix(newline + 1);
  }
  return out;
}

std::vector<std::string> matched_line_by_line(const std::vector<const LineMatcher*>& ms, std::string_view lines) {
  LineFilter every({});
  return matched_through_filter(every, ms, lines);
}

// Lines like a training job's: epoch lines, tqdm bars redrawn with '\r', CRLF ends, empty lines,
// binary bytes and lines longer than the matched prefix, with matches before and after it.
std::string awkward_output(unsigned seed) {
  std::mt19937 rng(seed);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  std::string out;
  for (int i = 0; i < 400; ++i) {
    switch (pick(10)) {
      case 0: out += "epoch " + std::to_string(i) + " done\n"; break;
      case 1: out += "epoch " + std::to_string(i) + " done\r\n"; break;
      case 2: out += "Epoch " + std::to_string(i) + ":  10%|#  |\rEpoch " + std::to_string(i) + ": 100%|###|\n"; break;
      case 3: out += "\n"; break;
      case 4: {
        std::string bytes;
        for (int b = 0; b < 40; ++b) bytes += static_cast<char>(rng() % 256 == '\n' ? 'n' : rng() % 256);
        for (char& c : bytes)
          if (c == '\n') c = ' ';
        out += bytes + "\n";
        break;
      }
      case 5: out += std::string(4090 + pick(12), 'x') + "epoch 7 done" + (pick(2) ? "\r\n" : "\n"); break;
      case 6: out += "epoch 8 done" + std::string(5000, ' ') + "\n"; break;
      case 7: out += std::string(4095 + pick(3), 'x') + "\r\n"; break;
      case 8: out += "loss 0.5 epoch 9 done done\n"; break;
      default: out += "step " + std::to_string(i) + " loss 0.25\n"; break;
    }
  }
  return out;
}

TEST(LineFilter, HandsOnExactlyTheLinesASearchLineByLineMatches) {
  const std::vector<std::vector<std::string>> pattern_sets = {
      {"epoch \\d+ done"},
      {"^epoch \\d+ done$"},
      {"done$"},
      {"x$"},                        // matches a line cut at the matched prefix (its end is the cut)
      {"\\bdone\\b"},
      {"^Epoch \\d+:"},
      {"(?i)EPOCH 9"},
      {"^$"},                        // empty lines (and CRLF lines with nothing else)
      {"\\Aepoch"},                  // not scannable: every line is checked
      {"[^ ]done$", "^Epoch \\d+: 100%"},
      {"epoch \\d+ done", "^step 1\\d loss"},
      {"x*"},                        // matches every line, empty ones too
      {"x\\b"},                      // at a cut line's end: a boundary there, none in the whole line
      {"(x$|done$)"},                // a '$' the search keeps: CRLF and cut lines are handed on
  };
  for (unsigned seed = 1; seed <= 5; ++seed) {
    std::string out = awkward_output(seed);
    for (const auto& set : pattern_sets) {
      std::vector<LineMatcher> owned;
      for (const auto& p : set) owned.emplace_back("--epoch-regex", p);
      std::vector<const LineMatcher*> ms;
      for (const auto& m : owned) ms.push_back(&m);
      LineFilter filter(ms);
      auto expected = matched_line_by_line(ms, out);
      EXPECT_EQ(matched_through_filter(filter, ms, out), expected) << "seed " << seed << ", pattern " << set.front();
    }
  }
}

TEST(LineFilter, SearchesWholeReadsForScannablePatternsOnly) {
  LineMatcher plain("--epoch-regex", "^epoch \\d+ done$");
  LineMatcher text_start("--epoch-regex", "\\Aepoch");
  LineMatcher multiline_off("--epoch-regex", "(?-m)^epoch");
  EXPECT_TRUE(plain.scannable());
  EXPECT_FALSE(text_start.scannable());
  EXPECT_FALSE(multiline_off.scannable());
  EXPECT_FALSE(LineFilter({&plain}).every_line());
  EXPECT_TRUE(LineFilter({&plain, &text_start}).every_line());
  // Lines that cannot match are skipped in one search: the first candidate is the third line.
  LineFilter filter({&plain});
  EXPECT_EQ(filter.next_candidate("step 1\nstep 2\nepoch 1 done\n"), 14u);
  EXPECT_EQ(filter.next_candidate("step 1\nstep 2\n"), std::string_view::npos);
}

TEST(LineFilter, FindsCrlfAndLongLinesForPatternsThatLookAtTheEnd) {
  std::string long_line(LineMatcher::kMaxMatchedLine + 1, 'x');
  std::string just_fits(LineMatcher::kMaxMatchedLine, 'x');
  EXPECT_EQ(first_cut_line("a\nb\r\nc\n", 100), 2u);
  EXPECT_EQ(first_cut_line("a\rb\nc\n", 100), std::string_view::npos) << "a '\\r' inside a line is no CRLF";
  EXPECT_EQ(first_cut_line("a\n" + just_fits + "\nb\n", 10000), std::string_view::npos);
  EXPECT_EQ(first_cut_line("a\n" + long_line + "\nb\r\n", 10000), 2u);
  EXPECT_EQ(first_cut_line("a\n" + long_line + "\n", 1), std::string_view::npos) << "only lines before the limit";
}

}  // namespace
