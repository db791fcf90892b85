#include "core/format.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <ctime>
#include <system_error>
#include <utility>

namespace epochwatt::detail {
namespace {

std::string non_finite(double v) {
  if (std::isnan(v)) return "nan";
  return v < 0 ? "-inf" : "inf";
}

// Split |seconds| into hours, minutes and the remaining seconds, as Python's divmod would.
struct Hms {
  bool negative;
  long long hours;
  int minutes;
  double seconds;
};
Hms split(double s) {
  Hms r{s < 0, 0, 0, 0.0};
  double a = std::fabs(s);
  r.hours = static_cast<long long>(std::floor(a / 3600.0));
  double rest = a - static_cast<double>(r.hours) * 3600.0;
  r.minutes = static_cast<int>(std::floor(rest / 60.0));
  r.seconds = rest - r.minutes * 60.0;
  return r;
}

// The strings below are built left to right with append only: at -O3 g++ 12 warns (-Wrestrict, a
// false positive: GCC bugs 105329 and 105651) on `"literal" + std::string&&` and on insert(0, ...),
// which -DEPOCHWATT_WERROR=ON turns into a failed Release build.
std::string two_digits(long long v) {
  std::string s(v < 10 ? "0" : "");
  s += std::to_string(v);
  return s;
}

// [-]H:MM:SS, the seconds already formatted (two digits, or more with decimals).
std::string hms_text(const Hms& h, const std::string& seconds) {
  std::string s(h.negative ? "-" : "");
  s += std::to_string(h.hours);
  s += ':';
  s += two_digits(h.minutes);
  s += ':';
  s += seconds;
  return s;
}

void carry_minute(Hms& h) {
  h.minutes += 1;
  if (h.minutes == 60) {
    h.minutes = 0;
    h.hours += 1;
  }
}

std::tm to_tm(std::chrono::system_clock::time_point t, bool utc) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  if (utc)
    gmtime_r(&tt, &tm);
  else
    localtime_r(&tt, &tm);
  return tm;
}

std::string strf(const std::tm& tm, const char* fmt) {
  char buf[64];
  std::size_t n = std::strftime(buf, sizeof buf, fmt, &tm);
  return std::string(buf, n);
}

int millis_of(std::chrono::system_clock::time_point t) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  return static_cast<int>(((ms % 1000) + 1000) % 1000);
}

}  // namespace

std::string fixed(double value, int decimals) {
  if (!std::isfinite(value)) return non_finite(value);
  char buf[512];
  auto res = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::fixed, decimals);
  if (res.ec != std::errc{}) return non_finite(NAN);
  return std::string(buf, res.ptr);
}

std::string shortest_fixed(double value) {
  if (!std::isfinite(value)) return non_finite(value);
  char buf[512];
  auto res = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::fixed);
  std::string s(buf, res.ptr);
  if (s.find('.') == std::string::npos) s += ".0";
  return s;
}

std::string significant(double value, int digits) {
  if (!std::isfinite(value)) return non_finite(value);
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::general, digits);
  return std::string(buf, res.ptr);
}

std::string readable(double value, int digits) {
  if (!std::isfinite(value)) return non_finite(value);
  if (value == 0.0) return "0";
  digits = std::max(digits, 1);
  int exponent = static_cast<int>(std::floor(std::log10(std::fabs(value))));
  // Correctly rounded to `digits` significant digits first (to_chars), so that 9.9996 gives "10".
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::scientific, digits - 1);
  double rounded = value;
  std::from_chars(buf, res.ptr, rounded);  // no locale: "2.736e+02" reads the same everywhere
  exponent = static_cast<int>(std::floor(std::log10(std::fabs(rounded))));
  if (exponent >= digits - 1) return fixed(value, 0);  // digits before the point are never cut
  int decimals = std::clamp(digits - 1 - exponent, 0, 17);
  std::string s = fixed(rounded, decimals);
  if (s.find('.') != std::string::npos) {
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  return s;
}

Basis basis_of(Method m) {
  switch (m) {
    case Method::counter:
    case Method::integrated_power:
    case Method::sampled_power:
    case Method::replay: return Basis::measured;
    case Method::estimate:
    case Method::simulated: return Basis::estimated;
    case Method::unknown: return Basis::unknown;
  }
  return Basis::unknown;
}

std::string_view to_string(Basis b) {
  switch (b) {
    case Basis::measured: return "measured";
    case Basis::estimated: return "estimated";
    case Basis::unknown: return "unknown";
  }
  return "unknown";
}

std::string method_phrase(Component c, Method m) {
  switch (m) {
    case Method::counter: return "measured: energy counter";
    case Method::integrated_power: return "measured: power readings integrated";
    case Method::sampled_power: return "measured: mean of power samples x duration";
    case Method::replay: return "measured: replayed trace";
    case Method::simulated: return "simulated: fixed power, not measured";
    case Method::unknown: return "method not stated";
    case Method::estimate:
      if (c == Component::cpu) return "estimate: TDP x utilisation";
      if (c == Component::dram) return "estimate: installed memory x W/GB";
      return "estimate, not measured";
  }
  return "method not stated";
}

std::string python_float_repr(double value) {
  if (!std::isfinite(value)) return non_finite(value);
  double a = std::fabs(value);
  if (a != 0.0 && (a < 1e-4 || a >= 1e16)) {
    char buf[64];
    auto res = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::scientific);
    std::string s(buf, res.ptr);  // e.g. "5e-05" already matches Python's exponent form
    return s;
  }
  return shortest_fixed(value);
}

std::string python_rounded_list(const std::vector<double>& values) {
  std::string out = "[";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i) out += ", ";
    // round(x, 2) then repr: the shortest repr of the double nearest to the 2-decimal text.
    // from_chars, not strtod: strtod follows LC_NUMERIC and stops at '.' under a ',' locale.
    std::string text = fixed(values[i], 2);
    double rounded = values[i];
    std::from_chars(text.data(), text.data() + text.size(), rounded);
    out += python_float_repr(rounded);
  }
  return out + "]";
}

std::string report_time(double seconds) {
  if (!std::isfinite(seconds)) return non_finite(seconds);
  Hms h = split(seconds);
  double sec = std::nearbyint(h.seconds);  // default rounding mode: half to even
  if (sec >= 60.0) {
    sec = 0.0;
    carry_minute(h);
  }
  return hms_text(h, two_digits(static_cast<long long>(sec)));
}

std::string log_duration(double seconds) {
  if (!std::isfinite(seconds)) return non_finite(seconds);
  Hms h = split(seconds);
  std::string sec = fixed(h.seconds, 2);
  if (sec.rfind("60", 0) == 0) {
    sec = "00.00";
    carry_minute(h);
  }
  if (sec.size() < 5) {  // zero-pad to SS.ss
    std::string padded(5 - sec.size(), '0');
    padded += sec;
    sec = std::move(padded);
  }
  return hms_text(h, sec);
}

std::string local_timestamp(std::chrono::system_clock::time_point t, bool with_millis) {
  std::string s = strf(to_tm(t, false), "%Y-%m-%d %H:%M:%S");
  if (with_millis) {
    int ms = millis_of(t);
    char buf[8];
    std::snprintf(buf, sizeof buf, ",%03d", ms);
    s += buf;
  }
  return s;
}

std::string utc_iso8601(std::chrono::system_clock::time_point t) {
  char buf[8];
  std::snprintf(buf, sizeof buf, ".%03d", millis_of(t));
  return strf(to_tm(t, true), "%Y-%m-%dT%H:%M:%S") + buf + "Z";
}

std::optional<std::chrono::system_clock::time_point> parse_utc_iso8601(const std::string& text) {
  int y, mo, d, h, mi, sec, ms = 0, used = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &used) != 6) return std::nullopt;
  std::string rest = text.substr(static_cast<std::size_t>(used));
  if (rest.size() == 5 && rest[0] == '.') {
    if (std::sscanf(rest.c_str(), ".%3d", &ms) != 1) return std::nullopt;
    rest = rest.substr(4);
  }
  if (rest != "Z") return std::nullopt;
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  std::time_t t = ::timegm(&tm);
  // system_clock counts nanoseconds in 64 bits (years 1678 to 2261): a time stamp outside that, as
  // in a damaged summary's "3563-...", would overflow from_time_t (undefined behaviour, found by
  // fuzz/json_summary), so it is malformed like any other.
  using namespace std::chrono;
  constexpr auto lo = duration_cast<seconds>(system_clock::time_point::min().time_since_epoch()).count() + 1;
  constexpr auto hi = duration_cast<seconds>(system_clock::time_point::max().time_since_epoch()).count() - 1;
  if (t < lo || t > hi) return std::nullopt;
  return system_clock::from_time_t(t) + milliseconds(ms);
}

std::string utc_file_stamp(std::chrono::system_clock::time_point t) {
  return strf(to_tm(t, true), "%Y-%m-%dT%H%M%SZ");
}

std::string join(const std::vector<std::string>& items, std::string_view sep) {
  std::string s;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) s += sep;
    s += items[i];
  }
  return s;
}

}  // namespace epochwatt::detail
