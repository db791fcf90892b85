#include "report/log_parse.hpp"

#include <algorithm>
#include <bit>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <set>
#include <unordered_set>

#include <dirent.h>
#include <fcntl.h>
#include <sys/statfs.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/format.hpp"
#include "epochwatt/limits.hpp"
#include "report/job_line.hpp"

namespace epochwatt::detail {
namespace fs = std::filesystem;

namespace {

constexpr std::string_view kComponentsPhrase = "The following components were found:";
// A carbontracker log of a long run is a few MB; anything far larger is not one of ours.
constexpr std::uintmax_t kMaxLogBytes = 256ull << 20;
// The largest read buffer kept from one log to the next (parse_log_pair): far above a typical
// log (a few kB; a run of 100,000 epochs is a few MB).
constexpr std::size_t kKeptBufferBytes = 4u << 20;

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_blank(s.back())) s.remove_suffix(1);
  return s;
}

// Removes `prefix` from the front of `s` if it is there.
bool consume(std::string_view& s, std::string_view prefix) {
  if (!s.starts_with(prefix)) return false;
  s.remove_prefix(prefix.size());
  return true;
}

// ASCII case folding, as Python's `(?i)` applies it to these ASCII patterns; locale-independent
// (std::tolower reads the global locale on every call: 6 % of a parse of 10,000 runs).
char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool istarts_with(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i)
    if (lower(s[i]) != lower(prefix[i])) return false;
  return true;
}

// Case-insensitive search (the original's `(?i)` patterns). When the needle starts with a letter,
// its first byte is looked for eight bytes at a time in both cases (a byte | 0x20 equals the
// lower-case letter only for that letter's two cases), and only there is the rest compared: the
// early-stop phrase is searched for in the whole text of every log.
std::size_t ifind(std::string_view hay, std::string_view needle) {
  if (needle.empty()) return 0;
  if (hay.size() < needle.size()) return std::string_view::npos;
  const char first = lower(needle[0]);
  const bool letter = first >= 'a' && first <= 'z';
  const std::size_t last = hay.size() - needle.size();  // the last position the needle can start at
  constexpr std::uint64_t kOnes = 0x0101010101010101ull, kHigh = 0x8080808080808080ull;
  const std::uint64_t pattern = kOnes * static_cast<unsigned char>(first);
  std::size_t i = 0;
  while (i <= last) {
    if (letter && i + 7 <= last) {
      std::uint64_t word;
      std::memcpy(&word, hay.data() + i, 8);
      std::uint64_t x = (word | (kOnes * 0x20)) ^ pattern;  // a zero byte where the letter is
      std::uint64_t zero = (x - kOnes) & ~x & kHigh;        // its lowest flag marks the first one
      if (!zero) {
        i += 8;
        continue;
      }
      i += static_cast<std::size_t>(std::countr_zero(zero)) / 8;
    }
    if (lower(hay[i]) == first && istarts_with(hay.substr(i), needle)) return i;
    ++i;
  }
  return std::string_view::npos;
}

std::optional<int> parse_int(std::string_view t) {
  t = trim(t);
  int v = 0;
  auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (t.empty() || ec != std::errc() || p != t.data() + t.size()) return std::nullopt;
  return v;
}

// The 1-based line of `text` on which the view `at` (a view into `text`) starts, for warnings
// that name FILE:LINE.
int line_of(std::string_view text, std::string_view at) {
  if (at.data() < text.data() || at.data() > text.data() + text.size()) return 0;
  auto upto = static_cast<std::size_t>(at.data() - text.data());
  return 1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(upto), '\n'));
}

// A log line quoted in a one-line warning: tabs and other control bytes become spaces.
std::string quoted_line(std::string_view line) {
  std::string out(line);
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  return "'" + out + "'";
}

// Why a logged quantity that can only be finite and non-negative (energy, CO2, power, time,
// intensity) is out of range, or "" when it is in range. A record holding such a value is left
// out: summing it would turn the totals negative or infinite.
// Upper bounds of figures read from logs, so that a damaged but finite value (1e308) cannot turn a
// sum of runs into inf: a run's energy at most limits::kMaxJobEnergyKwh, its CO2eq at most that
// energy at the highest intensity and PUE of limits.hpp, and a duration at most 1e9 s (31.7 years,
// longer than any training run).
constexpr double kMaxLogSeconds = 1e9;
constexpr double kMaxLogCo2G = limits::kMaxJobEnergyKwh * limits::kMaxIntensityGPerKwh * limits::kMaxPue;

std::string out_of_range(double v, double max = std::numeric_limits<double>::infinity()) {
  if (std::isnan(v)) return "not a number";
  if (!std::isfinite(v)) return "not finite";
  if (v < 0) return "negative";
  if (v > max) return "above " + detail::readable(max);
  return "";
}

// Offset of the first byte that is not part of well-formed UTF-8, or npos.
std::size_t invalid_utf8_offset(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    // ASCII eight bytes at a time: nearly every byte of a log.
    while (i + 8 <= s.size()) {
      std::uint64_t word;
      std::memcpy(&word, s.data() + i, 8);
      if (word & 0x8080808080808080ull) break;
      i += 8;
    }
    if (i >= s.size()) break;
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t len = 0;
    unsigned lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (c < 0x80) {
      ++i;
      continue;
    } else if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;  // no surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      return i;
    }
    if (i + len > s.size()) return i;
    for (std::size_t k = 1; k < len; ++k) {
      auto b = static_cast<unsigned char>(s[i + k]);
      if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xBF)) return i;
    }
    i += len;
  }
  return std::string_view::npos;
}

// A log file to read: its path (for messages, and to open it unless `dir_fd` is given), or its
// `name` inside the folder open as `dir_fd` (openat: the kernel walks one component, not the whole
// path); `regular`: the folder's listing said it is a regular file (d_type, not a link), so that
// the read needs no fstat.
struct LogFile {
  const std::string& path;
  int dir_fd = -1;
  const char* name = nullptr;
  bool regular = false;
  // The folder is on a local disk file system (local_disk_fs): there a read of a regular file
  // that returns fewer bytes than asked is the end, and the read that would return 0 is skipped.
  bool short_read_is_end = false;
};

// Whether the folder open as `dir_fd` is on a file system where a read of a regular file returns
// fewer bytes than asked only at its end (or on a signal, which returns EINTR before any byte):
// ext4/ext2/ext3, XFS, Btrfs and tmpfs (magic numbers from linux/magic.h). Not FUSE, NFS, CIFS,
// overlayfs or anything else, where a short read may come before the end. One fstatfs per folder.
bool local_disk_fs(int dir_fd) {
  struct statfs sf {};
  if (dir_fd < 0 || ::fstatfs(dir_fd, &sf) != 0) return false;
  switch (static_cast<unsigned long>(sf.f_type)) {
    case 0xEF53UL:      // EXT4_SUPER_MAGIC (also ext2 and ext3)
    case 0x58465342UL:  // XFS_SUPER_MAGIC
    case 0x9123683EUL:  // BTRFS_SUPER_MAGIC
    case 0x01021994UL:  // TMPFS_MAGIC
      return true;
    default:
      return false;
  }
}

// The first read size of a file whose size is not asked for (LogFile::regular): a log of a few kB
// takes one read of data and one that returns 0 (the end of the file).
constexpr std::size_t kFirstReadBytes = 64u << 10;

// The whole file as text with `\n` line ends (Python's universal newlines), after the checks
// that make a file unusable: unreadable, empty, too large, binary, not UTF-8, cut inside a line.
// The text is read into `buf` (reused from file to file; it keeps the size of the largest log
// read, so that it is not cleared for each file), and the returned view is the file's text in it.
// A file that the listing says is regular costs open, reads until read() returns 0 (two for a log
// of a few kB: a short read is not the end of the file on FUSE or NFS; a signal that interrupts a
// read before any byte gives EINTR, read again) and close; on a local disk file system
// (LogFile::short_read_is_end) one read of a few kB is the whole file. Any other file costs open, fstat, read
// and close: the fstat refuses a FIFO or a device and bounds the read by the size.
std::string_view read_log_text(const LogFile& f, std::string& buf) {
  const std::string& path = f.path;
  // O_NONBLOCK: a FIFO given as a log must not block the open (fstat then refuses it).
  int fd = f.dir_fd >= 0 && f.name ? ::openat(f.dir_fd, f.name, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
                                   : ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    int err = errno;
    // A file that exists but may not be read; anything else (missing, a dangling link) is unreadable.
    throw LogParseError(path, std::string(err == EACCES || err == EPERM ? "cannot open: " : "cannot read: ") +
                                  std::strerror(err));
  }
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  auto read_some = [&](std::size_t got, std::size_t upto) {
    for (;;) {
      ssize_t n = ::read(fd, buf.data() + got, upto - got);
      if (n >= 0) return static_cast<std::size_t>(n);
      if (errno != EINTR) {
        int err = errno;
        throw LogParseError(path, std::string("cannot read: ") + std::strerror(err));
      }
    }
  };
  std::size_t got = 0;
  if (f.regular) {
    if (buf.size() < kFirstReadBytes) buf.resize(kFirstReadBytes);
    // Only a read that returns 0 is the end of the file: on FUSE, NFS and other network file
    // systems a read may return fewer bytes than asked before the end, and stopping there would
    // drop the rest of the run (its last epochs) without a word.
    for (;;) {
      if (got == buf.size()) {
        if (got > kMaxLogBytes) throw LogParseError(path, "larger than 256 MiB: not a carbontracker log");
        buf.resize(std::min<std::size_t>(buf.size() * 2, kMaxLogBytes + 1));
      }
      const std::size_t asked = buf.size() - got;
      std::size_t n = read_some(got, buf.size());
      if (n == 0) break;  // the end of the file
      got += n;
      if (n < asked && f.short_read_is_end) break;  // the end, on a local disk file system
    }
  } else {
    struct stat st {};
    if (::fstat(fd, &st) != 0) throw LogParseError(path, std::string("cannot read: ") + std::strerror(errno));
    if (S_ISDIR(st.st_mode)) throw LogParseError(path, "cannot read: Is a directory");
    if (!S_ISREG(st.st_mode)) throw LogParseError(path, "cannot read: not a regular file");
    auto size = static_cast<std::uintmax_t>(st.st_size);
    if (size == 0) throw LogParseError(path, "empty file");
    if (size > kMaxLogBytes) throw LogParseError(path, "larger than 256 MiB: not a carbontracker log");
    if (buf.size() < size) buf.resize(static_cast<std::size_t>(size));
    while (got < size) {
      std::size_t n = read_some(got, static_cast<std::size_t>(size));
      if (n == 0) break;  // shrank while read: what is there is checked below
      got += n;
    }
  }
  char* data = buf.data();
  if (got == 0) throw LogParseError(path, "empty file");
  if (const void* nul = std::memchr(data, '\0', got))
    throw LogParseError(path, "binary data (NUL byte at offset " +
                                  std::to_string(static_cast<const char*>(nul) - data) + "): not a log file");
  if (auto bad = invalid_utf8_offset(std::string_view(data, got)); bad != std::string::npos)
    throw LogParseError(path, "not UTF-8 text (invalid byte at offset " + std::to_string(bad) + ")");
  // `\r\n` and a lone `\r` become `\n`, in place (the text only shrinks).
  if (std::memchr(data, '\r', got)) {
    std::size_t out = 0;
    for (std::size_t i = 0; i < got; ++i) {
      if (data[i] == '\r') {
        data[out++] = '\n';
        if (i + 1 < got && data[i + 1] == '\n') ++i;
      } else {
        data[out++] = data[i];
      }
    }
    got = out;
  }
  std::string_view text(data, got);
  // Both writers end every record with a line end; a file that does not was cut while written,
  // and its last number may be cut too.
  if (text.back() != '\n') throw LogParseError(path, "truncated: the last line is incomplete");
  return text;
}

// `YYYY-MM-DD HH:MM:SS[,mmm] - `: the length of the prefix, or 0 if `line` has none.
std::size_t timestamp_prefix(std::string_view line) {
  // "dddd-dd-dd dd:dd:dd", written out: this runs on every line of every log.
  if (line.size() < 19) return 0;
  const char* p = line.data();
  auto d = [p](std::size_t i) { return is_digit(p[i]); };
  if (!(d(0) && d(1) && d(2) && d(3) && p[4] == '-' && d(5) && d(6) && p[7] == '-' && d(8) && d(9) && p[10] == ' ' &&
        d(11) && d(12) && p[13] == ':' && d(14) && d(15) && p[16] == ':' && d(17) && d(18)))
    return 0;
  std::size_t n = 19;
  if (line.size() >= n + 4 && line[n] == ',' && is_digit(line[n + 1]) && is_digit(line[n + 2]) && is_digit(line[n + 3]))
    n += 4;
  return line.substr(n).starts_with(" - ") ? n + 3 : 0;
}

// One log record: the message of a time-stamped line and the continuation lines after it.
struct Record {
  std::string_view stamp;                    // `YYYY-MM-DD HH:MM:SS` of its time stamp
  std::string_view message;                  // the first line without `<ts> - `
  std::vector<std::string_view> continuation;  // following lines without a time stamp
};

std::vector<Record> split_records(std::string_view text) {
  std::vector<Record> records;
  records.reserve(text.size() / 48 + 4);  // a record line is rarely shorter than 48 bytes
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    if (std::size_t n = timestamp_prefix(line)) {
      records.push_back({line.substr(0, 19), line.substr(n), {}});
    } else if (!records.empty()) {
      records.back().continuation.push_back(line);
    }
    // Text before the first record (none in a valid log) belongs to no record.
  }
  return records;
}

// The components line's segments (spec §8.7): a segment starts at ` {NAME} with device(s) `
// with NAME in capitals; its device list ends at the `.` before the next segment or the end.
std::vector<ParsedComponent> parse_components(std::string_view rest) {
  static constexpr std::string_view kWith = " with device(s) ";
  struct Seg {
    std::string name;
    std::size_t start, list_begin;
  };
  std::vector<Seg> segs;
  for (std::size_t p = rest.find(kWith); p != std::string_view::npos; p = rest.find(kWith, p + 1)) {
    std::size_t b = p;
    while (b > 0 && (std::isupper(static_cast<unsigned char>(rest[b - 1])) || is_digit(rest[b - 1]) || rest[b - 1] == '_'))
      --b;
    if (b == p || !(b == 0 || rest[b - 1] == ' ')) continue;  // not a segment boundary
    std::string name(rest.substr(b, p - b));
    std::transform(name.begin(), name.end(), name.begin(), lower);
    segs.push_back({name, b == 0 ? 0 : b - 1, p + kWith.size()});
  }
  std::vector<ParsedComponent> out;
  for (std::size_t i = 0; i < segs.size(); ++i) {
    std::size_t end = i + 1 < segs.size() ? segs[i + 1].start : rest.size();
    std::string_view list = trim(rest.substr(segs[i].list_begin, end - std::min(end, segs[i].list_begin)));
    if (list.ends_with(".")) list.remove_suffix(1);
    ParsedComponent c{segs[i].name, {}};
    for (std::size_t from = 0; from <= list.size();) {
      std::size_t comma = list.find(", ", from);
      std::string_view dev = trim(list.substr(from, comma == std::string_view::npos ? std::string_view::npos : comma - from));
      if (!dev.empty()) c.devices.emplace_back(dev);
      if (comma == std::string_view::npos) break;
      from = comma + 2;
    }
    out.push_back(std::move(c));
  }
  return out;
}


// The power value of `Average power usage (W) for c: {value}` (spec §8.7): a plain or scientific
// number, a numpy array `[a b ...]` (whose continuation lines are in `more`), or None / [None] /
// nan for a missing value. Returns false when the text is none of these.
bool parse_power_value(std::string_view value, const std::vector<std::string_view>& more, ParsedPower& p) {
  value = trim(value);
  std::string lowered(value);
  std::transform(lowered.begin(), lowered.end(), lowered.begin(), lower);
  if (lowered == "none" || lowered == "[none]" || lowered == "nan" || lowered == "[nan]") return true;
  if (!value.starts_with("[")) {
    auto v = parse_float(value);
    if (!v) return false;
    if (!std::isnan(*v)) p.watts = *v;
    return true;
  }
  std::string array(value.substr(1));
  for (std::size_t i = 0; array.find(']') == std::string::npos && i < more.size(); ++i) array += " " + std::string(more[i]);
  std::size_t close = array.find(']');
  if (close == std::string::npos || !trim(std::string_view(array).substr(close + 1)).empty()) return false;
  array.resize(close);
  for (char& c : array)
    if (c == ',') c = ' ';
  double sum = 0;
  bool missing = false;
  std::string_view rest(array);
  while (!(rest = trim(rest)).empty()) {
    std::size_t sp = 0;
    while (sp < rest.size() && !is_blank(rest[sp])) ++sp;
    std::string_view tok = rest.substr(0, sp);
    rest.remove_prefix(sp);
    std::string t(tok);
    std::transform(t.begin(), t.end(), t.begin(), lower);
    double v = std::nan("");
    if (t != "none") {
      auto f = parse_float(tok);
      if (!f) return false;
      v = *f;
    }
    if (std::isnan(v)) missing = true;
    else sum += v;
    p.device_watts.push_back(v);
  }
  if (!p.device_watts.empty() && !missing) p.watts = sum;
  return true;
}

// epochwatt's `Power by device (W) for {c} [{methods}]: name=W; name=W[ (incomplete)]`.
bool parse_device_line(std::string_view rest, std::string& component, ParsedPower& into) {
  std::size_t bracket = rest.find(" [");
  std::size_t close = rest.find("]: ", bracket == std::string_view::npos ? 0 : bracket);
  if (bracket == std::string_view::npos || close == std::string_view::npos) return false;
  component = std::string(rest.substr(0, bracket));
  into.method = std::string(rest.substr(bracket + 2, close - bracket - 2));
  std::string_view items = rest.substr(close + 3);
  into.device_names.clear();
  into.device_watts.clear();
  for (std::size_t from = 0; from <= items.size();) {
    std::size_t sep = items.find("; ", from);
    std::string_view item = items.substr(from, sep == std::string_view::npos ? std::string_view::npos : sep - from);
    if (item.ends_with(" (incomplete)")) item.remove_suffix(std::string_view(" (incomplete)").size());
    std::size_t eq = item.rfind('=');
    if (eq == std::string_view::npos) return false;
    auto w = parse_float(item.substr(eq + 1));
    if (!w) return false;
    into.device_names.emplace_back(item.substr(0, eq));
    into.device_watts.push_back(*w);
    if (sep == std::string_view::npos) break;
    from = sep + 2;
  }
  return true;
}

// The number that starts `text` ([0-9.]+, as the original's report reader takes it).
std::optional<double> leading_number(std::string_view text) {
  std::size_t n = 0;
  while (n < text.size() && (is_digit(text[n]) || text[n] == '.')) ++n;
  return parse_float(text.substr(0, n));
}

std::string version_of(std::string_view tool, std::string_view value, bool has_extensions) {
  if (has_extensions) return "epochwatt";
  if (tool != "carbontracker") return std::string(tool);
  std::size_t dot = value.find('.');
  if (dot == std::string_view::npos) return std::string(value);
  std::size_t dot2 = value.find('.', dot + 1);
  return std::string(value.substr(0, dot2));
}

// epochwatt's `Measuring {device} ({component}) by {method} through meter {id}[: {detail}].`, or
// nullopt when the line is not of that shape. The device name may hold anything but " through
// meter "; the method and the id hold no blank.
std::optional<ParsedMeter> parse_meter_line(std::string_view msg) {
  std::size_t through = msg.find(" through meter ");
  std::string_view head = msg.substr(10, through - 10);  // after "Measuring "
  std::string_view id = msg.substr(through + 15);
  id = id.substr(0, std::min(id.find(": "), id.size()));
  if (id.ends_with(".")) id.remove_suffix(1);
  std::size_t by = head.rfind(") by ");
  std::size_t open = by == std::string_view::npos ? by : head.rfind(" (", by);
  if (open == std::string_view::npos || id.empty()) return std::nullopt;
  return ParsedMeter{std::string(head.substr(0, open)), std::string(head.substr(open + 2, by - open - 2)),
                     std::string(head.substr(by + 5)), std::string(id)};
}

struct StdLog {
  ParsedRun run;
  std::string components_text;  // the components line's segments as written
};

StdLog parse_std_log(const std::string& path, std::string_view text) {
  StdLog out;
  ParsedRun& run = out.run;
  bool have_components = false, has_extensions = false;
  std::string tool, tool_version;
  ParsedEpoch* current = nullptr;
  auto next_index = [&] { return run.epochs.empty() ? 1 : run.epochs.back().index + 1; };
  auto new_epoch = [&](int index) -> ParsedEpoch& {
    run.epochs.push_back({});
    run.epochs.back().index = index;
    current = &run.epochs.back();
    return *current;
  };
  auto fail = [&](const std::string& what) { throw LogParseError(path, what); };
  // Epochs holding an out-of-range value (by position in run.epochs), left out after the loop.
  std::set<std::size_t> excluded;
  auto at_line = [&](std::string_view at) { return "line " + std::to_string(line_of(text, at)) + ": "; };
  auto exclude = [&](const ParsedEpoch& e, std::string_view at, const std::string& what) {
    excluded.insert(static_cast<std::size_t>(&e - run.epochs.data()));
    run.notes.push_back(at_line(at) + what + " in " + quoted_line(at) + ": epoch " + std::to_string(e.index) +
                        " left out of the run");
  };
  auto watts_problem = [](const ParsedPower& p) -> std::string {
    if (p.watts)
      if (auto why = out_of_range(*p.watts); !why.empty()) return "power " + why;
    for (double w : p.device_watts)
      if (!std::isnan(w))
        if (auto why = out_of_range(w); !why.empty()) return "device power " + why;
    return "";
  };

  std::vector<Record> records = split_records(text);
  for (std::size_t r = 0; r < records.size(); ++r) {
    std::string_view msg = trim(records[r].message);
    std::string_view rest = msg;
    if (consume(rest, kComponentsPhrase)) {
      if (!have_components) {
        run.components = parse_components(rest);
        out.components_text = std::string(trim(rest));
        have_components = true;
      }
    } else if (r == 0 && msg.find(" version ") != std::string_view::npos &&
               msg.find(' ') == msg.find(" version ")) {
      tool = std::string(msg.substr(0, msg.find(' ')));
      tool_version = std::string(trim(msg.substr(msg.find(" version ") + 9)));
    } else if (auto pue = msg.find("PUE coefficient of "); pue != std::string_view::npos) {
      run.pue = leading_number(msg.substr(pue + 19));
      if (run.pue && !(*run.pue >= 1.0 && *run.pue <= limits::kMaxPue)) {
        run.notes.push_back(at_line(msg) + "PUE " + detail::fixed(*run.pue, 2) + " is outside 1 to " +
                            detail::fixed(limits::kMaxPue, 0) + "; ignored");
        run.pue.reset();
      }
    } else if (msg.starts_with("Epoch ") && msg.ends_with(":")) {
      auto n = parse_int(msg.substr(6, msg.size() - 7));
      if (!n) continue;  // not an epoch line after all
      new_epoch(*n);
    } else if (consume(rest, "Duration: ")) {
      auto d = parse_hms(rest);
      if (!d) fail("unreadable duration in '" + std::string(msg) + "'");
      ParsedEpoch& e = (current && !current->interrupted && !current->duration_s) ? *current : new_epoch(next_index());
      e.duration_s = d;
      if (auto why = out_of_range(*d, kMaxLogSeconds); !why.empty()) exclude(e, msg, "duration " + why);
    } else if (consume(rest, "Average power usage (W) for ")) {
      std::size_t colon = rest.find(": ");
      if (colon == std::string_view::npos) fail("unreadable power line '" + std::string(msg) + "'");
      ParsedPower p;
      p.component = std::string(rest.substr(0, colon));
      if (!parse_power_value(rest.substr(colon + 2), records[r].continuation, p))
        fail("unreadable power value in '" + std::string(msg) + "'");
      ParsedEpoch& e = (current && !current->interrupted && !current->power(p.component)) ? *current : new_epoch(next_index());
      std::string bad = watts_problem(p);
      e.powers.push_back(std::move(p));
      if (!bad.empty()) exclude(e, msg, bad);
    } else if (consume(rest, "Power by device (W) for ")) {
      has_extensions = true;
      std::string comp;
      ParsedPower ext;
      if (!parse_device_line(rest, comp, ext)) {
        run.notes.push_back("unreadable per-device line '" + std::string(msg) + "' ignored");
        continue;
      }
      ParsedPower* target = nullptr;
      if (current)
        for (auto& p : current->powers)
          if (p.component == comp) target = &p;
      if (!target) {
        run.notes.push_back("per-device line without its power line ignored: '" + std::string(msg) + "'");
        continue;
      }
      if (std::string bad = watts_problem(ext); !bad.empty()) exclude(*current, msg, bad);
      target->device_names = std::move(ext.device_names);
      target->device_watts = std::move(ext.device_watts);
      target->method = std::move(ext.method);
    } else if (consume(rest, "Interrupted epoch ")) {
      has_extensions = true;
      std::size_t paren = rest.find(' ');
      std::size_t ran = rest.find(" ran "), drew = rest.find(" and drew ");
      auto n = parse_int(rest.substr(0, paren));
      if (!n || ran == std::string_view::npos || drew == std::string_view::npos || drew < ran) {
        run.notes.push_back("unreadable line '" + std::string(msg) + "' ignored");
        continue;
      }
      ParsedEpoch& e = new_epoch(*n);
      e.interrupted = true;
      e.duration_s = parse_hms(rest.substr(ran + 5, drew - ran - 5));
      std::string_view j = rest.substr(drew + 10);
      if (j.ends_with(" J.")) j.remove_suffix(3);
      e.interrupted_joules = parse_float(j);
      std::string why = e.duration_s ? out_of_range(*e.duration_s, kMaxLogSeconds) : "";
      if (why.empty() && e.interrupted_joules) why = out_of_range(*e.interrupted_joules);
      if (!why.empty()) exclude(e, msg, "a value " + why);
    } else if (istarts_with(msg, "Training was interrupted")) {
      std::size_t all = msg.find("before all ");
      if (all != std::string_view::npos) {
        std::string_view n = msg.substr(all + 11);
        auto m = parse_int(n.substr(0, n.find(' ')));
        if (m && *m > 0) run.monitor_epochs = m;
      }
    } else if (msg.starts_with("Carbon intensities ")) {
      // 2.4: `... at detected location: {address}: [a, b]`; 2.3: `... location {address}: [a]`.
      std::size_t at = msg.find("at detected location");
      std::size_t open = msg.rfind(": [");
      if (at != std::string_view::npos && open != std::string_view::npos && open > at && msg.ends_with("]")) {
        std::string_view addr = msg.substr(at + 20, open - at - 20);
        if (addr.starts_with(":")) addr.remove_prefix(1);
        run.address = std::string(trim(addr));
        run.intensities.clear();
        std::string_view list = msg.substr(open + 3, msg.size() - open - 4);
        for (std::size_t from = 0; from < list.size();) {
          std::size_t comma = list.find(',', from);
          auto v = parse_float(list.substr(from, comma == std::string_view::npos ? std::string_view::npos : comma - from));
          if (v && (!out_of_range(*v).empty() || *v > limits::kMaxIntensityGPerKwh))
            run.notes.push_back(at_line(msg) + "carbon intensity " + detail::fixed(*v, 2) + " is outside 0 to " +
                                detail::fixed(limits::kMaxIntensityGPerKwh, 0) + " gCO2eq/kWh; ignored");
          else if (v) run.intensities.push_back(*v);
          if (comma == std::string_view::npos) break;
          from = comma + 1;
        }
      }
    } else if (consume(rest, "Set-up before epoch 1: ")) {
      has_extensions = true;
      std::size_t and_at = rest.find(" and ");
      auto d = and_at == std::string_view::npos ? std::nullopt : parse_hms(rest.substr(0, and_at));
      auto j = and_at == std::string_view::npos ? std::nullopt : leading_number(rest.substr(and_at + 5));
      if (d && j && (!out_of_range(*d).empty() || !out_of_range(*j).empty()))
        run.notes.push_back(at_line(msg) + "set-up time or energy out of range; ignored");
      else if (d && j) run.setup = std::pair{*d, *j};
    } else if (consume(rest, "Average carbon intensity during training was ")) {
      run.average_intensity = leading_number(rest);
      if (run.average_intensity && *run.average_intensity > limits::kMaxIntensityGPerKwh) {
        run.notes.push_back(at_line(msg) + "carbon intensity above " + detail::fixed(limits::kMaxIntensityGPerKwh, 0) +
                            " gCO2eq/kWh; ignored");
        run.average_intensity.reset();
      }
    } else if (msg.starts_with("Intensity source: ")) {
      has_extensions = true;
      run.intensity_source_line = std::string(msg);
    } else if (msg.starts_with("Carbon intensity fetched: ") || msg.starts_with("Carbon intensity: ")) {
      if (run.intensity_source_line.empty()) run.intensity_source_line = std::string(msg);
      std::size_t at = msg.find(" at ");
      if (run.address.empty() && at != std::string_view::npos) run.address = std::string(trim(msg.substr(at + 4)));
    } else if (msg.starts_with("Measuring ") && msg.find(" through meter ") != std::string_view::npos) {
      has_extensions = true;
      if (auto m = parse_meter_line(msg)) run.meters.push_back(std::move(*m));
    } else if (msg.starts_with(kJobLinePrefix)) {
      has_extensions = true;
      std::string why;
      if (auto job = parse_job_line(msg, &why)) run.job = std::move(*job);
      else run.notes.push_back(at_line(msg) + "job identity unreadable (" + why + "); the run is read as a single process's");
    } else if (msg.starts_with(kSharedMetersPrefix)) {
      has_extensions = true;
      std::string why;
      if (auto ids = parse_shared_meters_line(msg, &why)) run.shared_meters = std::move(*ids);
      else run.notes.push_back(at_line(msg) + "shared meters unreadable (" + why + "); its meters are read as its own");
    }
  }
  if (!records.empty()) {
    run.started = std::string(records.front().stamp);
    run.finished = std::string(records.back().stamp);
  }
  // The original's early-stop test: the phrase anywhere in the text, any case.
  run.early_stop = ifind(text, "Training was interrupted") != std::string_view::npos;

  if (!have_components) fail("no 'The following components were found:' line: truncated, or not a carbontracker standard log");
  if (!excluded.empty()) {
    std::vector<ParsedEpoch> kept;
    for (std::size_t i = 0; i < run.epochs.size(); ++i)
      if (!excluded.count(i)) kept.push_back(std::move(run.epochs[i]));
    run.epochs = std::move(kept);
  }

  // Every completed epoch needs its duration and one power line per component that has any.
  std::set<std::string> measured;
  for (const auto& e : run.epochs)
    for (const auto& p : e.powers) measured.insert(p.component);
  int last_completed = -1;
  for (std::size_t i = 0; i < run.epochs.size(); ++i)
    if (!run.epochs[i].interrupted) last_completed = static_cast<int>(i);
  for (std::size_t i = 0; i < run.epochs.size(); ++i) {
    const ParsedEpoch& e = run.epochs[i];
    if (e.interrupted) continue;
    std::string where = "epoch " + std::to_string(e.index);
    bool last = static_cast<int>(i) == last_completed;
    if (!e.duration_s)
      fail(last ? "truncated: " + where + " has no Duration line" : where + " has no Duration line");
    for (const auto& comp : measured)
      if (!e.power(comp))
        fail(last ? "truncated: " + where + " has no power line for " + comp
                  : where + " has no power line for " + comp);
  }

  // Device names with ", " inside are ambiguous in the components line; the extension line
  // lists them one by one.
  for (auto& c : run.components)
    for (const auto& e : run.epochs) {
      const ParsedPower* p = e.power(c.name);
      if (!p || p->device_names.empty()) continue;
      if (p->device_names.size() != c.devices.size() && join(p->device_names, ", ") == join(c.devices, ", "))
        c.devices = p->device_names;
      break;
    }

  run.tool = tool;
  run.tool_version = tool_version;
  if (!tool.empty()) {
    run.version = version_of(tool, tool_version, has_extensions);
  } else if (has_extensions) {
    run.version = "epochwatt";
  } else if (text.find("gCO2eq/kWh") != std::string_view::npos) {
    run.version = "2.4";
  } else if (text.find("gCO2/kWh") != std::string_view::npos) {
    run.version = "2.3";
  } else {
    run.version = "unknown";
  }
  return out;
}

// One report block from the lines after its title, inside one record.
// nullopt, with a note naming the line, when the block holds an energy, CO2 or time that is
// negative or infinite: that block is left out (NaN is kept, as the original writes it, and left
// out of the totals by aggregate()).
std::optional<ParsedConsumption> parse_block(const std::string& path, std::string_view text, std::string_view title,
                                             const std::vector<std::string_view>& lines, std::size_t from,
                                             std::vector<std::string>& notes) {
  ParsedConsumption c;
  bool time = false, energy = false, co2 = false, equivalents = false;
  std::string bad;  // the first out-of-range value, "line N: ..."
  auto check = [&](std::string_view line, const char* what, double v, bool nan_ok, double max) {
    if (!bad.empty() || (nan_ok && std::isnan(v))) return;
    if (auto why = out_of_range(v, max); !why.empty())
      bad = "line " + std::to_string(line_of(text, line)) + ": " + what + " " + why + " in " + quoted_line(trim(line));
  };
  for (std::size_t i = from; i < lines.size(); ++i) {
    std::string_view t = trim(lines[i]);
    if (equivalents) {
      if (t.empty()) continue;
      std::size_t sp = 0;
      while (sp < t.size() && !is_blank(t[sp])) ++sp;
      auto v = parse_float(t.substr(0, sp));
      std::string unit(trim(t.substr(sp)));
      if (!v || unit.empty()) {
        notes.push_back("line " + std::to_string(line_of(text, lines[i])) + ": unreadable equivalent '" + std::string(t) + "' skipped");
        continue;
      }
      if (!std::isnan(*v) && !out_of_range(*v).empty()) {
        notes.push_back("line " + std::to_string(line_of(text, lines[i])) + ": equivalent " + quoted_line(t) + " is " +
                        out_of_range(*v) + "; skipped");
        continue;
      }
      auto it = std::find_if(c.equivalents.begin(), c.equivalents.end(), [&](const auto& e) { return e.first == unit; });
      if (it != c.equivalents.end()) it->second = *v;
      else c.equivalents.emplace_back(unit, *v);
      if (unit == "km travelled by car") c.km = *v;
    } else if (t.starts_with("Time:")) {
      c.duration_s = parse_hms(t.substr(5));
      time = c.duration_s.has_value();
      if (time) check(lines[i], "Time", *c.duration_s, false, kMaxLogSeconds);
    } else if (t.starts_with("Energy:") && t.ends_with("kWh")) {
      auto v = parse_float(t.substr(7, t.size() - 10));
      if (v) c.energy_kwh = *v;
      energy = v.has_value();
      if (v) check(lines[i], "Energy", *v, true, limits::kMaxJobEnergyKwh);
    } else if (t.starts_with("CO2eq:") && t.ends_with("g")) {
      auto v = parse_float(t.substr(6, t.size() - 7));
      if (v) c.co2_g = *v;
      co2 = v.has_value();
      if (v) check(lines[i], "CO2eq", *v, true, kMaxLogCo2G);
    } else if (t.starts_with("This is equivalent to:")) {
      equivalents = true;
    }
  }
  if (!time || !energy || !co2)
    throw LogParseError(path, "truncated: the block '" + std::string(title) + "' lacks " +
                                  (!time ? "a readable Time" : !energy ? "a readable Energy" : "a readable CO2eq") + " line");
  if (!bad.empty()) {
    notes.push_back(bad + ": the block '" + std::string(title) + "' left out");
    return std::nullopt;
  }
  return c;
}

struct OutputLog {
  std::optional<ParsedConsumption> predicted, actual;
  std::string components_text;
  std::vector<std::string> notes;
  std::string prediction_rule;  // `Prediction rule: {name}: ...`
};

OutputLog parse_output_log(const std::string& path, std::string_view text) {
  OutputLog out;
  bool have_components = false, predicted_seen = false, actual_seen = false;
  for (const Record& rec : split_records(text)) {
    std::vector<std::string_view> lines;
    std::string_view first = rec.message;
    if (first.starts_with("CarbonTracker: ")) first.remove_prefix(15);
    lines.push_back(first);
    lines.insert(lines.end(), rec.continuation.begin(), rec.continuation.end());
    std::string_view components = trim(first);
    if (std::string_view rule = components; out.prediction_rule.empty() && consume(rule, "Prediction rule: ")) {
      out.prediction_rule = std::string(rule.substr(0, rule.find(':')));
      continue;
    }
    if (!have_components && consume(components, kComponentsPhrase)) {
      out.components_text = std::string(trim(components));
      have_components = true;
      continue;
    }
    for (std::size_t i = 0; i < lines.size(); ++i) {
      std::string_view t = trim(lines[i]);
      if (!predicted_seen && istarts_with(t, "Predicted consumption for ")) {
        std::string_view n = t.substr(26);
        auto count = parse_int(n.substr(0, n.find(' ')));
        if (!count || !t.ends_with(":")) throw LogParseError(path, "unreadable title '" + std::string(t) + "'");
        predicted_seen = true;
        out.predicted = parse_block(path, text, t, lines, i + 1, out.notes);
        if (out.predicted) {
          out.predicted->epochs = *count;
          out.predicted->title_epochs = count;
        }
        break;
      }
      if (!actual_seen && istarts_with(t, "Actual consumption")) {
        actual_seen = true;
        out.actual = parse_block(path, text, t, lines, i + 1, out.notes);
        std::string_view n = t.substr(18);
        if (out.actual && istarts_with(n, " for ")) out.actual->title_epochs = parse_int(n.substr(5, n.find(' ', 5) - 5));
        break;
      }
    }
  }
  return out;
}

// What std::filesystem::path(p).filename() gives for a POSIX path: the text after the last `/`
// ("" when `p` ends with one), without parsing the path into its components.
std::string file_name(const std::string& p) {
  std::size_t slash = p.rfind('/');
  return slash == std::string::npos ? p : p.substr(slash + 1);
}

// The common part of a log's name, or nullopt for a name that is not a log's.
std::optional<std::string> run_key(const std::string& file_name, std::string_view suffix) {
  if (!file_name.ends_with(suffix)) return std::nullopt;
  return file_name.substr(0, file_name.size() - suffix.size());
}

}  // namespace

LogParseError::LogParseError(std::string file, std::string message)
    : file_(std::move(file)), message_(std::move(message)), text_(file_ + ": " + message_) {}

const ParsedPower* ParsedEpoch::power(std::string_view component) const {
  for (const auto& p : powers)
    if (p.component == component) return &p;
  return nullptr;
}

double ParsedEpoch::joules() const {
  if (interrupted) return interrupted_joules.value_or(0.0);
  double j = 0;
  for (const auto& p : powers) j += p.watts.value_or(0.0) * duration_s.value_or(0.0);
  return j;
}

int ParsedRun::epochs_done() const {
  return static_cast<int>(std::count_if(epochs.begin(), epochs.end(), [](const ParsedEpoch& e) { return !e.interrupted; }));
}

std::optional<double> parse_float(std::string_view text) {
  text = trim(text);
  if (!text.empty() && text[0] == '+') {
    text.remove_prefix(1);
    if (!text.empty() && text[0] == '-') return std::nullopt;
  }
  if (text.empty()) return std::nullopt;
  double v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size()) return std::nullopt;
  return v;
}

std::optional<double> parse_hms(std::string_view text) {
  text = trim(text);
  bool negative = text.starts_with("-");
  if (negative) text.remove_prefix(1);
  std::size_t c1 = text.find(':');
  if (c1 == std::string_view::npos || c1 == 0 || text.size() < c1 + 6 || text[c1 + 3] != ':') return std::nullopt;
  std::string_view h = text.substr(0, c1), m = text.substr(c1 + 1, 2), s = text.substr(c1 + 4);
  auto all_digits = [](std::string_view v) { return !v.empty() && std::all_of(v.begin(), v.end(), is_digit); };
  std::string_view s_int = s.substr(0, s.find('.'));
  std::string_view s_frac = s.find('.') == std::string_view::npos ? std::string_view("0") : s.substr(s.find('.') + 1);
  if (!all_digits(h) || !all_digits(m) || !all_digits(s_int) || s_int.size() > 2 || !all_digits(s_frac)) return std::nullopt;
  auto hv = parse_float(h), mv = parse_float(m), sv = parse_float(s);
  if (!hv || !mv || !sv) return std::nullopt;
  // The original's order of operations: h * 60 * 60 + m * 60 + s.
  double seconds = *hv * 60 * 60 + *mv * 60 + *sv;
  return negative ? -seconds : seconds;
}

namespace {

// parse_log_pair of two files, opened as `std_file` and `output_file` say (LogFile).
ParsedRun parse_pair(const LogFile& std_file, const LogFile& output_file) {
  const std::string& std_path = std_file.path;
  const std::string& output_path = output_file.path;
  std::string std_name = file_name(std_path);
  std::string out_name = file_name(output_path);
  auto std_key = run_key(std_name, kStandardLogSuffix);
  auto out_key = run_key(out_name, kOutputLogSuffix);
  if (std_key && out_key && *std_key != *out_key)
    throw LogParseError(output_path, "belongs to run '" + *out_key + "', not to the standard log's run '" + *std_key + "'");

  // The text buffers live as long as the thread: a folder of runs reuses them (no allocation per
  // file). A buffer grown past kKeptBufferBytes by a long run's log is let go after that run, so
  // that a thread does not keep a large log's memory after the parse.
  thread_local std::string std_text, out_text;
  struct ReleaseLarge {
    ~ReleaseLarge() {
      for (std::string* t : {&std_text, &out_text})
        if (t->size() > kKeptBufferBytes) std::string().swap(*t);
    }
  } release_large;
  std::string_view std_view = read_log_text(std_file, std_text);
  std::string_view out_view = read_log_text(output_file, out_text);
  StdLog s = parse_std_log(std_path, std_view);
  OutputLog o = parse_output_log(output_path, out_view);
  if (!o.components_text.empty() && o.components_text != s.components_text)
    throw LogParseError(output_path, "lists other devices than " + std_path + ": the two files are not one run");

  ParsedRun run = std::move(s.run);
  run.std_log = std_path;
  run.output_log = output_path;
  run.id = std_key ? *std_key : out_key ? *out_key : fs::path(std_path).stem().string();
  run.predicted = std::move(o.predicted);
  run.actual = std::move(o.actual);
  run.prediction_rule = std::move(o.prediction_rule);
  for (auto& n : o.notes) run.output_notes.push_back(std::move(n));
  if (run.actual) {
    // The real count (D22). Without a count in the title (`Actual consumption:`), and when the
    // original's stop() under-counted it by one (D10), the standard log's epochs tell.
    int done = run.epochs_done();
    if (!run.actual->title_epochs || (run.early_stop && done > 0))
      run.actual->epochs = done;
    else
      run.actual->epochs = *run.actual->title_epochs;
  }
  return run;
}

}  // namespace

ParsedRun parse_log_pair(const std::string& std_path, const std::string& output_path) {
  return parse_pair(LogFile{std_path}, LogFile{output_path});
}

ParsedRun parse_standard_log(const std::string& std_path) {
  std::string buf;
  StdLog s = parse_std_log(std_path, read_log_text(LogFile{std_path}, buf));
  ParsedRun run = std::move(s.run);
  run.std_log = std_path;
  std::string name = fs::path(std_path).filename().string();
  auto key = run_key(name, kStandardLogSuffix);
  run.id = key ? *key : fs::path(std_path).stem().string();
  return run;
}

namespace {

// A run's log files as one listing of its folder found them: the run key and which of the two
// names are there (the paths are built when the run is read, so that a listing of 10,000 runs
// holds 10,000 short names and no paths).
struct LogPairNames {
  std::string key;
  bool std_log = false, output_log = false;
  bool std_link = false;  // the standard log's entry is a symbolic link (to a regular file)
  bool output_link = false;  // the same for the output log
};

struct FolderListing {
  std::vector<LogPairNames> pairs;  // sorted by key (the output logs' names sort the same way)
  std::vector<ParseWarning> warnings;
};

// `dir` and `name` joined as std::filesystem's `dir / name` joins them (a separator unless `dir`
// ends with one), without building a path object per file.
std::string join_path(const std::string& dir, std::string_view name) {
  std::string p;
  p.reserve(dir.size() + 1 + name.size());
  p += dir;
  if (!p.empty() && p.back() != '/') p += '/';
  p += name;
  return p;
}

// The log pairs directly in `dir`: one pass of readdir, each name matched by its ending, then one
// sort. An entry whose type the listing gives (d_type) costs no system call; a symbolic link or
// an entry of unknown type is followed (stat) to see whether it is a regular file.
FolderListing log_pairs_in(const std::string& dir) {
  FolderListing out;
  DIR* d = ::opendir(dir.c_str());
  if (!d) {
    out.warnings.push_back({dir, std::string("cannot read: ") + std::strerror(errno)});
    return out;
  }
  errno = 0;
  while (const dirent* entry = ::readdir(d)) {
    std::string_view name(entry->d_name);
    bool output = name.ends_with(kOutputLogSuffix);
    if (!output && !name.ends_with(kStandardLogSuffix)) continue;
    // Unknown type: perhaps a link, so its canonical path is resolved when it is read.
    bool link = entry->d_type == DT_LNK || entry->d_type == DT_UNKNOWN;
    if (entry->d_type != DT_REG) {
      if (entry->d_type != DT_LNK && entry->d_type != DT_UNKNOWN) continue;
      struct stat st {};
      if (::stat(join_path(dir, name).c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    }
    std::size_t stem = name.size() - (output ? kOutputLogSuffix.size() : kStandardLogSuffix.size());
    LogPairNames n{std::string(name.substr(0, stem))};
    (output ? n.output_log : n.std_log) = true;
    (output ? n.output_link : n.std_link) = link;
    out.pairs.push_back(std::move(n));
    errno = 0;
  }
  if (errno != 0) out.warnings.push_back({dir, std::string("listing stopped early: ") + std::strerror(errno)});
  ::closedir(d);
  // A standard log and its output log share a key: merge each run's two entries into one.
  std::sort(out.pairs.begin(), out.pairs.end(), [](const auto& a, const auto& b) { return a.key < b.key; });
  std::size_t kept = 0;
  for (std::size_t i = 0; i < out.pairs.size(); ++i) {
    if (kept > 0 && out.pairs[kept - 1].key == out.pairs[i].key) {
      LogPairNames& into = out.pairs[kept - 1];
      into.std_log = into.std_log || out.pairs[i].std_log;
      into.output_log = into.output_log || out.pairs[i].output_log;
      into.std_link = into.std_link || out.pairs[i].std_link;
      into.output_link = into.output_link || out.pairs[i].output_link;
    } else {
      if (kept != i) out.pairs[kept] = std::move(out.pairs[i]);
      ++kept;
    }
  }
  out.pairs.resize(kept);
  out.pairs.shrink_to_fit();
  return out;
}

// The subfolders of `dir` that hold log pairs directly, sorted, each with its listing (a folder
// given one level above the logs: a project folder holding logs/, or one folder per run). Each
// subfolder is listed once.
std::vector<std::pair<std::string, FolderListing>> log_subfolders(const std::string& dir) {
  std::vector<std::pair<std::string, FolderListing>> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code type_ec;
    if (!it->is_directory(type_ec)) continue;
    FolderListing listing = log_pairs_in(it->path().string());
    if (!listing.pairs.empty()) out.emplace_back(it->path().string(), std::move(listing));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

// The same folder or file given twice (or reached twice, through a link or a folder and one of its
// files) is read once: the canonical paths read so far.
class SeenPaths {
 public:
  bool first_time(const std::string& path) { return seen_.insert(canonical(path)).second; }
  // A file `name` listed in `dir`, whose canonical folder is `canonical_dir`: without a link
  // in its own name, its canonical path is the folder's and its name (no system call).
  bool first_time_in(const std::string& canonical_dir, const std::string& path, const std::string& name, bool link) {
    if (link || canonical_dir.empty()) return first_time(path);
    return seen_.insert(join_path(canonical_dir, name)).second;
  }
  static std::string canonical(const std::string& path) {
    std::error_code ec;
    std::string c = fs::weakly_canonical(path, ec).string();
    return ec ? path : c;
  }

 private:
  std::unordered_set<std::string> seen_;  // hashed: 10,000 paths that share a long prefix
};

}  // namespace

void for_each_log_run(const std::vector<std::string>& dirs, const std::function<void(ParsedRun&)>& on_run,
                      const std::function<void(ParseWarning&&)>& on_warning) {
  auto warn = [&](const std::string& file, const std::string& message) {
    if (on_warning) on_warning({file, message});
  };
  SeenPaths seen;
  // Reads one run; `canonical_dir` is its folder's canonical path when the pair comes from a
  // listing (else ""), so that the check for a file read twice costs no system call. From a
  // listing, `listed` holds the folder open (dir_fd, -1 if it could not be opened) and which of the
  // two files are links: the others are opened by name in the folder, without an fstat.
  struct Listed {
    int dir_fd = -1;
    bool std_link = true, output_link = true;
    bool local_fs = false;  // local_disk_fs(dir_fd)
  };
  auto read_pair = [&](const std::string& key, const std::string& std_path, const std::string& output_path,
                       const std::string& canonical_dir, Listed listed) {
    const bool std_link = listed.std_link;
    if (output_path.empty()) {
      warn(std_path, "no output log " + key + std::string(kOutputLogSuffix) + " beside it: run skipped");
      return;
    }
    if (std_path.empty()) {
      warn(output_path, "no standard log " + key + std::string(kStandardLogSuffix) + " beside it: run skipped");
      return;
    }
    if (!seen.first_time_in(canonical_dir, std_path, key + std::string(kStandardLogSuffix), std_link)) return;
    ParsedRun run;
    try {
      if (listed.dir_fd >= 0) {
        const std::string std_name = key + std::string(kStandardLogSuffix);
        const std::string output_name = key + std::string(kOutputLogSuffix);
        run = parse_pair(LogFile{std_path, listed.dir_fd, std_name.c_str(), !listed.std_link, listed.local_fs},
                         LogFile{output_path, listed.dir_fd, output_name.c_str(), !listed.output_link, listed.local_fs});
      } else {
        run = parse_log_pair(std_path, output_path);
      }
    } catch (const LogParseError& e) {
      warn(e.file(), e.message() + ": run skipped");
      return;
    }
    for (const auto& n : run.notes) warn(run.std_log, n);
    for (const auto& n : run.output_notes) warn(run.output_log, n);
    on_run(run);
  };
  auto read_listing = [&](const std::string& dir, const FolderListing& listing) {
    for (const auto& w : listing.warnings) warn(w.file, w.message);
    const std::string canonical_dir = SeenPaths::canonical(dir);
    // Without the folder open, each file is opened by its path.
    int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    struct Closer {
      int fd;
      ~Closer() {
        if (fd >= 0) ::close(fd);
      }
    } closer{dir_fd};
    const bool local_fs = local_disk_fs(dir_fd);
    for (const auto& p : listing.pairs)
      read_pair(p.key, p.std_log ? join_path(dir, p.key + std::string(kStandardLogSuffix)) : std::string(),
                p.output_log ? join_path(dir, p.key + std::string(kOutputLogSuffix)) : std::string(), canonical_dir,
                Listed{dir_fd, p.std_link, p.output_link, local_fs});
  };
  for (const auto& dir : dirs) {
    std::error_code ec;
    fs::file_status st = fs::status(dir, ec);
    std::string name = fs::path(dir).filename().string();
    if (fs::is_regular_file(st)) {
      // One level below the folder: a log file given itself reads its run.
      bool output = name.ends_with(kOutputLogSuffix);
      if (!output && !name.ends_with(kStandardLogSuffix)) {
        warn(dir, "not a carbontracker log (*_carbontracker.log or *_carbontracker_output.log) nor a folder of them");
        continue;
      }
      std::string stem = dir.substr(0, dir.size() - (output ? kOutputLogSuffix.size() : kStandardLogSuffix.size()));
      std::string key = name.substr(0, name.size() - (output ? kOutputLogSuffix.size() : kStandardLogSuffix.size()));
      std::string std_path = stem + std::string(kStandardLogSuffix), output_path = stem + std::string(kOutputLogSuffix);
      std::error_code pec;
      if (!fs::is_regular_file(output ? std_path : output_path, pec)) (output ? std_path : output_path).clear();
      read_pair(key, std_path, output_path, "", Listed{});
      continue;
    }
    if (!fs::is_directory(st)) {
      warn(dir, ec ? "cannot read: " + ec.message() : "not a directory");
      continue;
    }
    if (!seen.first_time(dir)) continue;  // the same folder twice
    FolderListing listing = log_pairs_in(dir);
    if (!listing.pairs.empty()) {
      read_listing(dir, listing);
      continue;
    }
    for (const auto& w : listing.warnings) warn(w.file, w.message);
    // One level above the logs: read the subfolders that hold them, and say so.
    auto subs = log_subfolders(dir);
    if (subs.empty()) {
      warn(dir, "no carbontracker log pair here or in its subfolders: give the folder that holds the "
                "*_carbontracker.log and *_carbontracker_output.log files");
      continue;
    }
    std::string list;
    for (const auto& [sub, _] : subs) list += (list.empty() ? "" : ", ") + sub;
    warn(dir, "no log pair directly in this folder; read the " + std::to_string(subs.size()) +
                  " subfolder(s) that hold them: " + list);
    for (auto& [sub, sub_listing] : subs) {
      if (!seen.first_time(sub)) continue;
      read_listing(sub, sub_listing);
      sub_listing = {};  // a folder read lets its names go
    }
  }
}

std::vector<ParsedRun> parse_log_dirs(const std::vector<std::string>& dirs, std::vector<ParseWarning>* warnings) {
  std::vector<ParsedRun> runs;
  for_each_log_run(
      dirs, [&](ParsedRun& run) { runs.push_back(std::move(run)); },
      [&](ParseWarning&& w) {
        if (warnings) warnings->push_back(std::move(w));
      });
  return runs;
}

std::string_view to_string(SummedBlock b) {
  switch (b) {
    case SummedBlock::none: return "none";
    case SummedBlock::predicted: return "predicted";
    case SummedBlock::actual: return "actual";
  }
  return "none";
}

SummedBlock summed_block(const ParsedRun& run) {
  if (!run.actual && !run.predicted) return SummedBlock::none;
  if (!run.actual) return SummedBlock::predicted;
  if (!run.predicted || run.early_stop || run.actual->epochs >= run.predicted->epochs) return SummedBlock::actual;
  return SummedBlock::predicted;
}

void Aggregator::add(const ParsedRun& run) {
  ++a_.runs;
  if (run.version == "epochwatt") ++ours_;
  SummedBlock which = summed_block(run);
  if (which == SummedBlock::none) return;
  const ParsedConsumption& c = which == SummedBlock::actual ? *run.actual : *run.predicted;
  ++a_.runs_summed;
  bool nan = false;
  if (std::isnan(c.energy_kwh)) nan = true;
  else a_.energy_kwh += c.energy_kwh;
  if (std::isnan(c.co2_g)) nan = true;
  else a_.co2_g += c.co2_g;
  if (nan) ++a_.nan_skipped;
  for (const auto& [unit, value] : c.equivalents) {
    // An init-capture: clang before 16 cannot capture a structured binding (C++20, P1091).
    auto it = std::find_if(a_.equivalents.begin(), a_.equivalents.end(), [&u = unit](const auto& e) { return e.first == u; });
    if (it == a_.equivalents.end()) a_.equivalents.emplace_back(unit, value);
    else it->second += value;
  }
}

Aggregate Aggregator::result() const {
  Aggregate a = a_;
  a.measured_by = measured_by_counts(ours_, a_.runs);
  return a;
}

Aggregate aggregate(const std::vector<ParsedRun>& runs) {
  Aggregator sum;
  for (const auto& run : runs) sum.add(run);
  return sum.result();
}

std::string aggregate_sentence(const Aggregate& a, std::string_view measured_by) {
  std::string s = "The training of models in this work is estimated to use " + fixed(a.energy_kwh, 16) +
                  " kWh of electricity contributing to " + fixed(a.co2_g / 1000, 16) + " kg of CO2eq. ";
  if (!a.equivalents.empty()) {
    s += "This is equivalent to ";
    for (std::size_t i = 0; i < a.equivalents.size(); ++i)
      s += (i ? " or " : "") + fixed(a.equivalents[i].second, 16) + " " + a.equivalents[i].first;
    s += ". ";
  }
  std::string_view by = !measured_by.empty()        ? measured_by
                        : !a.measured_by.empty() ? std::string_view(a.measured_by)
                                                 : kMeasuredByCarbontracker;
  return s + "Measured by " + std::string(by) + ".";
}

std::string measured_by(const std::vector<ParsedRun>& runs) {
  std::size_t ours = 0;
  for (const auto& r : runs)
    if (r.version == "epochwatt") ++ours;
  return measured_by_counts(ours, runs.size());
}

std::string measured_by_counts(std::size_t epochwatt_runs, std::size_t runs) {
  if (epochwatt_runs == 0) return std::string(kMeasuredByCarbontracker);
  if (epochwatt_runs == runs) return std::string(kMeasuredByEpochwatt);
  return "carbontracker (https://github.com/lfwa/carbontracker) and epochwatt, an implementation of it";
}

}  // namespace epochwatt::detail
