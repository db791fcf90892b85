#include "cli/line_matcher.hpp"

#include <re2/re2.h>
#include <string.h>  // memrchr (GNU)

#include <algorithm>
#include <cstring>

#include "cli/command_line.hpp"

namespace epochwatt::cli {
namespace {

RE2::Options re2_options(bool never_nl) {
  RE2::Options o;            // UTF-8, leftmost-first (Perl's choice among alternatives), 8 MiB for the DFA
  o.set_log_errors(false);   // RE2 would print its own line on stderr; ours says it once, as CliError
  o.set_never_nl(never_nl);  // the scan over many lines: no match may span a '\n'
  return o;
}

// Conservative, on the text (see LineMatcher::scannable()): false as soon as anything that could
// look at the start or end of the whole text, match a '\n' or turn off multi-line mode appears,
// even where it would not (escaped, inside a class).
bool scannable_pattern(std::string_view p) {
  for (const char* esc : {"\\A", "\\z", "\\C"})
    if (p.find(esc) != std::string_view::npos) return false;
  // Flag groups, (?flags) and (?flags:re): an 'm' or a '-' among the flags could turn multi-line
  // mode off, so that '^' would mean the start of the whole read.
  for (std::size_t i = p.find("(?"); i != std::string_view::npos; i = p.find("(?", i + 1)) {
    for (std::size_t j = i + 2; j < p.size(); ++j) {
      char c = p[j];
      if (c == 'm' || c == '-') return false;
      if (c != 'i' && c != 's' && c != 'U') break;
    }
  }
  return true;
}

// Conservative, on the text (see LineMatcher::looks_at_line_end()).
bool line_end_pattern(std::string_view p) {
  return p.find('$') != std::string_view::npos || p.find("\\b") != std::string_view::npos ||
         p.find("\\B") != std::string_view::npos;
}

// `p` without a '^' at its very start and an unescaped '$' at its very end: the same pattern with
// two assertions fewer, so it matches wherever `p` does. (Only those two places: elsewhere '^'
// may negate a class, and a '$' may be escaped or inside a class.)
std::string without_line_anchors(std::string p) {
  if (!p.empty() && p.front() == '^') p.erase(0, 1);
  if (!p.empty() && p.back() == '$') {
    std::size_t backslashes = 0;
    for (std::size_t i = p.size() - 1; i > 0 && p[i - 1] == '\\'; --i) ++backslashes;
    if (backslashes % 2 == 0) p.pop_back();
  }
  return p;
}

}  // namespace

LineMatcher::LineMatcher(std::string flag, std::string pattern)
    : flag_(std::move(flag)), pattern_(std::move(pattern)) {
  re_ = std::make_unique<RE2>(pattern_, re2_options(false));
  if (!re_->ok())
    throw CliError(flag_ + ": invalid regular expression '" + pattern_ + "': " + re_->error() +
                   " (RE2 syntax, which has no backreferences and no lookaround: see docs/cli.md)");
  scannable_ = scannable_pattern(pattern_);
  looks_at_line_end_ = line_end_pattern(pattern_);
}

LineMatcher::~LineMatcher() = default;
LineMatcher::LineMatcher(LineMatcher&&) noexcept = default;
LineMatcher& LineMatcher::operator=(LineMatcher&&) noexcept = default;

bool LineMatcher::matches(std::string_view line) const {
  return RE2::PartialMatch(re2::StringPiece(line.data(), line.size()), *re_);
}

LineFilter::LineFilter(const std::vector<const LineMatcher*>& matchers) {
  if (matchers.empty()) return;
  // "(?m)(?:P1)|(?:P2)": each pattern compiled alone first, so each is balanced and its own flag
  // groups stay inside its group; (?m) makes ^ a line's start. A leading '^' and a trailing '$'
  // are left out: the search then finds a superset of the lines (the candidates are checked with
  // the whole pattern), and it can skip to the pattern's first literal with memchr instead of
  // stepping its DFA through every byte.
  std::string scan = "(?m)";
  bool line_ends = false;
  for (const LineMatcher* m : matchers) {
    if (!m->scannable()) return;  // every line is a candidate
    std::string loose = without_line_anchors(m->pattern());
    line_ends = line_ends || line_end_pattern(loose);
    if (scan.size() > 4) scan += '|';
    scan += "(?:" + loose + ")";
  }
  auto re = std::make_unique<RE2>(scan, re2_options(true));
  if (!re->ok()) return;  // not for patterns that compiled alone, but then: every line
  scan_ = std::move(re);
  line_ends_ = line_ends;
}

LineFilter::~LineFilter() = default;
LineFilter::LineFilter(LineFilter&&) noexcept = default;
LineFilter& LineFilter::operator=(LineFilter&&) noexcept = default;

std::size_t LineFilter::next_candidate(std::string_view lines) const {
  constexpr auto npos = std::string_view::npos;
  re2::StringPiece text(lines.data(), lines.size());
  re2::StringPiece match;
  std::size_t found = npos;
  if (scan_->Match(text, 0, text.size(), RE2::UNANCHORED, &match, 1)) {
    auto at = static_cast<std::size_t>(match.data() - lines.data());
    if (at < lines.size()) {  // else an empty match after the last '\n': no line there
      auto newline = at == 0 ? npos : lines.rfind('\n', at - 1);  // the match lies within one line (never_nl)
      found = newline == npos ? 0 : newline + 1;
    }
  }
  if (!line_ends_) return found;
  return std::min(found, first_cut_line(lines, found == npos ? lines.size() : found));
}

std::size_t first_cut_line(std::string_view lines, std::size_t limit) {
  constexpr auto npos = std::string_view::npos;
  constexpr std::size_t max = LineMatcher::kMaxMatchedLine;
  limit = std::min(limit, lines.size());
  const char* base = lines.data();
  // The first CRLF line: a '\r' followed by '\n' (rare outside Windows programs; a progress bar's
  // '\r's are followed by more of its line).
  // Only before `limit` (a line start, or the end): a CRLF line that starts before it ends before
  // it, and searching past it made each call cost the whole read (quadratic in a read's lines).
  std::size_t crlf = npos;
  for (std::size_t from = 0; from < limit;) {
    const void* r = ::memchr(base + from, '\r', limit - from);
    if (!r) break;
    auto at = static_cast<std::size_t>(static_cast<const char*>(r) - base);
    if (at + 1 < lines.size() && lines[at + 1] == '\n') {
      auto newline = at == 0 ? npos : lines.rfind('\n', at - 1);
      crlf = newline == npos ? 0 : newline + 1;
      break;
    }
    from = at + 1;
  }
  limit = std::min(limit, crlf);
  // The first long line: from a line's start, a window of max + 1 bytes without '\n' means that
  // line is longer than max; otherwise every line up to the window's last '\n' is short.
  for (std::size_t start = 0; start < limit;) {
    std::size_t window = std::min(max + 1, lines.size() - start);
    const void* n = ::memrchr(base + start, '\n', window);
    if (!n) return window > max ? start : crlf;  // a last line without '\n' is long only if it is
    start = static_cast<std::size_t>(static_cast<const char*>(n) - base) + 1;
  }
  return crlf;
}

}  // namespace epochwatt::cli
