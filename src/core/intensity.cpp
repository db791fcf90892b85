// The parts of the public intensity types that need no provider: a forecast's mean.
#include <algorithm>

#include "epochwatt/intensity.hpp"

namespace epochwatt {

std::optional<double> IntensityForecast::mean(std::chrono::system_clock::time_point from,
                                              std::chrono::system_clock::time_point to) const {
  double weighted = 0, covered = 0;
  for (const auto& p : points) {
    auto p_end = p.start + std::chrono::duration_cast<std::chrono::system_clock::duration>(
                               std::chrono::duration<double>(p.period_s));
    auto a = std::max(from, p.start);
    auto b = std::min(to, p_end);
    if (b <= a) continue;
    double s = std::chrono::duration<double>(b - a).count();
    weighted += s * p.g_per_kwh;
    covered += s;
  }
  if (covered <= 0) return std::nullopt;
  return weighted / covered;
}

}  // namespace epochwatt
