#include "meters/replay/replay.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <ext/stdio_filebuf.h>
#include <istream>
#include <fstream>
#include <sstream>

#include "core/format.hpp"
#include "epochwatt/errors.hpp"
#include "epochwatt/limits.hpp"

namespace epochwatt::meters {
namespace {

template <typename T>
bool parse_field(std::string_view s, T& out) {
  auto res = std::from_chars(s.data(), s.data() + s.size(), out);
  return res.ec == std::errc{} && res.ptr == s.data() + s.size();
}

class ReplayMeter final : public Meter {
 public:
  ReplayMeter(std::vector<TraceSample> trace, Component component, std::string device_name,
              bool use_power, double offset_s)
      : trace_(std::move(trace)), use_power_(use_power), offset_(offset_s),
        counter_(1e-3, 0) {
    info_.id = std::string("replay:") + std::string(to_string(component));
    info_.component = component;
    info_.device_name = std::move(device_name);
    info_.method = Method::replay;
    // A counter that advances every 100 ms is read every 100 ms; power is polled more finely.
    info_.poll_period_s = use_power ? 0.05 : 0.1;
  }
  const MeterInfo& info() const override { return info_; }
  void open(double t) override {
    t_open_ = t;
    sample(offset_);
  }
  MeterReading read(double t) override {
    MeterReading r;
    double tt = offset_ + (t - t_open_);
    if (tt > trace_.back().t_s) {
      tt = trace_.back().t_s;
      r.lost = true;
      r.ok = false;
      r.error = "replay trace ended at " + detail::readable(trace_.back().t_s, 6) + " s";
    }
    r.joules = sample(tt);
    return r;
  }

 private:
  // Latest sample at or before trace time tt (a real read returns the last published value).
  const TraceSample& at(double tt) const {
    auto it = std::upper_bound(trace_.begin(), trace_.end(), tt,
                               [](double v, const TraceSample& s) { return v < s.t_s; });
    return it == trace_.begin() ? *it : *(it - 1);
  }
  double sample(double tt) {
    const TraceSample& s = at(tt);
    if (use_power_) return integrator_.add(tt, s.power_mw / 1000.0);
    return counter_.update(s.energy_mj);
  }

  MeterInfo info_;
  std::vector<TraceSample> trace_;
  bool use_power_;
  double offset_;
  double t_open_ = 0.0;
  WrappingCounter counter_;
  PowerIntegrator integrator_;
};

}  // namespace

std::vector<TraceSample> load_trace(const std::string& path, std::vector<std::string>* warnings) {
  // A FIFO or a device in the trace's place would block set-up: it is opened without blocking and
  // read through that same descriptor only if it is a regular file (a trace may be large, so it is
  // streamed, not read whole), so nothing can be swapped in between the check and the reads.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) throw Error("cannot open replay trace " + path + ": " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw Error("replay trace " + path + " is not a regular file (a FIFO, a device or a folder); refused");
  }
  __gnu_cxx::stdio_filebuf<char> buf(fd, std::ios::in);  // owns fd from here
  std::istream in(&buf);
  std::string line;
  if (!std::getline(in, line)) throw Error("replay trace " + path + " is empty");
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line != "t_s,power_mw,energy_mj")
    throw Error("replay trace " + path + " line 1: expected header t_s,power_mw,energy_mj, got '" +
                line + "'");
  std::vector<TraceSample> out;
  int lineno = 1;
  constexpr int kMaxRowWarnings = 10;
  int left_out = 0;
  while (std::getline(in, line)) {
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    std::string_view v(line);
    auto c1 = v.find(','), c2 = v.find(',', c1 == v.npos ? c1 : c1 + 1);
    TraceSample s{};
    if (c1 == v.npos || c2 == v.npos || !parse_field(v.substr(0, c1), s.t_s) ||
        !parse_field(v.substr(c1 + 1, c2 - c1 - 1), s.power_mw) ||
        !parse_field(v.substr(c2 + 1), s.energy_mj))
      throw Error("replay trace " + path + " line " + std::to_string(lineno) + ": cannot parse '" +
                  line + "'");
    // A time or power that is negative, not finite, or a power above one device's
    // (limits::kMaxDeviceWatts) cannot be a sample: the row is left out, and said for the first
    // kMaxRowWarnings rows, then once for the rest.
    if (!std::isfinite(s.t_s) || s.t_s < 0 || !std::isfinite(s.power_mw) || s.power_mw < 0 ||
        s.power_mw > limits::kMaxDeviceWatts * 1000.0) {
      ++left_out;
      if (warnings && left_out <= kMaxRowWarnings)
        warnings->push_back("replay trace " + path + " line " + std::to_string(lineno) +
                            ": a time or power that is negative, not finite or above " +
                            detail::readable(limits::kMaxDeviceWatts) + " W; row left out");
      continue;
    }
    if (!out.empty() && s.t_s < out.back().t_s)
      throw Error("replay trace " + path + " line " + std::to_string(lineno) +
                  ": time goes backwards");
    out.push_back(s);
  }
  if (warnings && left_out > kMaxRowWarnings)
    warnings->push_back("replay trace " + path + ": " + std::to_string(left_out - kMaxRowWarnings) +
                        " more rows left out for the same reasons");
  if (out.empty()) throw Error("replay trace " + path + " has no samples");
  return out;
}

std::shared_ptr<Meter> make_replay_meter(std::vector<TraceSample> trace, Component component,
                                         std::string device_name, bool use_power,
                                         double offset_s) {
  return std::make_shared<ReplayMeter>(std::move(trace), component, std::move(device_name),
                                       use_power, offset_s);
}

}  // namespace epochwatt::meters
