#include "intensity/plan.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <ctime>

namespace epochwatt::detail {
namespace {

using std::chrono::system_clock;

system_clock::duration seconds(double s) {
  return std::chrono::duration_cast<system_clock::duration>(std::chrono::duration<double>(s));
}

// Seconds of [from, to) that the forecast's periods cover.
double covered(const IntensityForecast& f, system_clock::time_point from, system_clock::time_point to) {
  double total = 0;
  for (const auto& p : f.points) {
    auto a = std::max(from, p.start), b = std::min(to, p.start + seconds(p.period_s));
    if (b > a) total += std::chrono::duration<double>(b - a).count();
  }
  return total;
}

}  // namespace

std::optional<Plan> plan_start(const IntensityForecast& f, system_clock::time_point now, double duration_s,
                               double within_s, std::string* why) {
  auto fully_covered = [&](system_clock::time_point s) {
    return covered(f, s, s + seconds(duration_s)) >= duration_s * (1 - 1e-9);
  };
  auto mean = [&](system_clock::time_point s) { return *f.mean(s, s + seconds(duration_s)); };
  if (f.points.empty() || !fully_covered(now)) {
    if (why) *why = "the forecast does not cover the next " + std::to_string(static_cast<long long>(duration_s)) + " s";
    return std::nullopt;
  }
  Plan plan;
  plan.now = {now, mean(now)};
  plan.best = plan.now;
  plan.candidates = 1;
  auto limit = now + seconds(std::max(0.0, within_s - duration_s));
  plan.latest_start = now;
  std::vector<system_clock::time_point> starts;
  for (const auto& p : f.points)
    if (p.start > now && p.start <= limit) starts.push_back(p.start);
  std::sort(starts.begin(), starts.end());
  for (auto s : starts) {
    if (!fully_covered(s)) {
      plan.horizon_limited = true;
      continue;
    }
    plan.candidates++;
    plan.latest_start = s;
    double m = mean(s);
    if (m < plan.best.mean_g_per_kwh - 1e-12) plan.best = {s, m};
  }
  // The forecast's end, not the window, limited the starts compared.
  auto last_end = f.points.back().start + seconds(f.points.back().period_s);
  for (const auto& p : f.points) last_end = std::max(last_end, p.start + seconds(p.period_s));
  if (last_end < now + seconds(within_s)) plan.horizon_limited = true;
  return plan;
}

std::optional<double> parse_duration(const std::string& text) {
  if (text.empty()) return std::nullopt;
  double total = 0;
  std::size_t i = 0;
  bool any = false;
  while (i < text.size()) {
    double x = 0;
    auto [p, ec] = std::from_chars(text.data() + i, text.data() + text.size(), x);
    if (ec != std::errc() || !std::isfinite(x) || x < 0) return std::nullopt;
    i = static_cast<std::size_t>(p - text.data());
    double unit = 1;
    if (i < text.size()) {
      switch (std::tolower(static_cast<unsigned char>(text[i]))) {
        case 's': unit = 1; break;
        case 'm': unit = 60; break;
        case 'h': unit = 3600; break;
        case 'd': unit = 86400; break;
        default: return std::nullopt;
      }
      ++i;
    } else if (any) {
      return std::nullopt;  // "1h30": a bare number only on its own
    }
    total += x * unit;
    any = true;
  }
  if (!(total > 0)) return std::nullopt;
  return total;
}

std::string iso_utc(system_clock::time_point t) {
  std::time_t tt = system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::optional<system_clock::time_point> parse_iso_utc(const std::string& text) {
  std::tm tm{};
  int sec = 0;
  int n = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                  &tm.tm_min, &n) != 5)
    return std::nullopt;
  std::size_t i = static_cast<std::size_t>(n);
  if (i < text.size() && text[i] == ':') {
    int m = 0;
    if (std::sscanf(text.c_str() + i, ":%2d%n", &sec, &m) != 1) return std::nullopt;
    i += static_cast<std::size_t>(m);
  }
  if (i + 1 != text.size() || text[i] != 'Z') return std::nullopt;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  tm.tm_sec = sec;
  std::time_t tt = timegm(&tm);
  if (tt == static_cast<std::time_t>(-1)) return std::nullopt;
  return system_clock::from_time_t(tt);
}

}  // namespace epochwatt::detail
