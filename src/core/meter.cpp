#include "epochwatt/meter.hpp"

namespace epochwatt {

std::string_view to_string(Component c) {
  switch (c) {
    case Component::cpu: return "cpu";
    case Component::dram: return "dram";
    case Component::gpu: return "gpu";
  }
  return "?";
}

std::string_view to_string(Method m) {
  switch (m) {
    case Method::counter: return "counter";
    case Method::integrated_power: return "integrated-power";
    case Method::estimate: return "estimate";
    case Method::simulated: return "simulated";
    case Method::replay: return "replay";
    case Method::sampled_power: return "sampled-power";
    case Method::unknown: return "unknown";
  }
  return "?";
}

std::string_view report_component_of(Component c) { return c == Component::gpu ? "gpu" : "cpu"; }

double WrappingCounter::update(std::uint64_t raw) {
  if (!primed_) {
    primed_ = true;
    last_ = raw;
    return joules();
  }
  if (raw >= last_) {
    total_units_ += static_cast<long double>(raw - last_);
  } else if (max_range_ > 0 && last_ <= max_range_) {
    // One wrap: the counter ran from last_ up to max_range_ and restarted from zero.
    total_units_ += static_cast<long double>(max_range_ - last_) + static_cast<long double>(raw);
    ++wraps_;
  } else {
    // No known range (or a value above it): a reset, whose lost part cannot be known.
    ++resets_;
  }
  last_ = raw;
  return joules();
}

double PowerIntegrator::add(double t, double watts) {
  if (primed_ && t > last_t_) joules_ += 0.5 * (watts + last_w_) * (t - last_t_);
  if (!primed_ || t >= last_t_) {
    last_t_ = t;
    last_w_ = watts;
  }
  primed_ = true;
  return joules_;
}

}  // namespace epochwatt
