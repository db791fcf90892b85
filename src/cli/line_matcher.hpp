// The epoch regexes (--epoch-regex, --epoch-start-regex) and the search for the lines of a job's
// output that may match them. RE2 (Debian's libre2-dev): matching takes time linear in the line,
// whatever the pattern and the line, and a whole read of many lines is searched in one pass, so
// that forwarding the job's output costs little more than copying it (docs/cli.md,
// docs/performance.md "Forwarding and start-up (issue 13)").
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace re2 {
class RE2;
}

namespace epochwatt::cli {

// One user pattern. Immutable once built: matches() may be called from any thread.
class LineMatcher {
 public:
  // Only the first bytes of a line are searched: a line of megabytes (a progress bar redrawn for
  // hours) is not kept whole. Epoch lines are short. (The limit of the std::regex era, kept.)
  static constexpr std::size_t kMaxMatchedLine = 4096;

  // `flag` names the option in messages ("--epoch-regex"). Throws CliError with one line,
  // "--epoch-regex: invalid regular expression 'epoch (': missing ): epoch ( (RE2 syntax: ...)",
  // when RE2 refuses the pattern (a syntax error, a backreference, a lookaround ...).
  LineMatcher(std::string flag, std::string pattern);
  ~LineMatcher();
  LineMatcher(LineMatcher&&) noexcept;
  LineMatcher& operator=(LineMatcher&&) noexcept;

  // True when the pattern occurs in `line` (searched, not anchored: `^` and `$` are the line's
  // start and end). `line` is one line without its '\n'; the caller has cut it to
  // kMaxMatchedLine bytes and removed one '\r' at its end (a CRLF line end).
  bool matches(std::string_view line) const;

  const std::string& flag() const { return flag_; }
  const std::string& pattern() const { return pattern_; }

  // True when a search through many lines at once (LineFilter) can find the lines that
  // matches() accepts: the pattern has no \A, \z or \C, whose meaning differs there, and no flag
  // group that could turn off multi-line mode. Decided on the pattern's text, conservatively (an
  // escaped "\\A" also makes it false), which costs speed, never a line.
  bool scannable() const { return scannable_; }
  // True when the pattern may look at a line's end ($, \b, \B): there the search through many
  // lines sees the line's '\n', where matches() sees the end of the text, which differs for a
  // CRLF line (its '\r' removed) and a line cut at kMaxMatchedLine; LineFilter hands those on
  // whatever the search says. Also decided on the text, conservatively.
  bool looks_at_line_end() const { return looks_at_line_end_; }

 private:
  std::string flag_;
  std::string pattern_;
  std::unique_ptr<re2::RE2> re_;
  bool scannable_ = false;
  bool looks_at_line_end_ = true;
};

// Finds, in a run of complete lines, the next line that may match any of a few LineMatchers:
// one RE2 search over the whole run in multi-line mode, with '\n' never matched, instead of one
// search per line. A line it returns is a candidate, to be checked with LineMatcher::matches();
// a line it skips matches none of them. When a pattern looks_at_line_end(), CRLF lines and lines
// longer than kMaxMatchedLine are candidates too (found with memchr, not the regex). When a
// pattern is not scannable() every line is a candidate (every_line()). Immutable once built.
class LineFilter {
 public:
  explicit LineFilter(const std::vector<const LineMatcher*>& matchers);
  ~LineFilter();
  LineFilter(LineFilter&&) noexcept;
  LineFilter& operator=(LineFilter&&) noexcept;

  // True when every line must be checked.
  bool every_line() const { return !scan_; }
  // `lines` starts at the start of a line. Returns the offset in `lines` of the start of the
  // first line that may match, or std::string_view::npos when none may. Not for every_line().
  std::size_t next_candidate(std::string_view lines) const;

 private:
  std::unique_ptr<re2::RE2> scan_;
  bool line_ends_ = false;  // some pattern looks_at_line_end()
};

// The offset in `lines` (which starts at a line's start) of the first line, starting before
// `limit`, that ends in "\r\n" or is longer than LineMatcher::kMaxMatchedLine bytes (a last line
// without '\n' counts as long only if it is); npos when none does. Exposed for the tests.
std::size_t first_cut_line(std::string_view lines, std::size_t limit);

}  // namespace epochwatt::cli
