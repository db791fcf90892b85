// A mark a backend puts on a meter whose energy grows linearly between any two of its reads (a
// constant power, as the DRAM estimate from installed memory): reading it more often adds nothing.
// The MeterSet then reads it at its own MeterInfo::poll_period_s even where update_interval is
// shorter, and wherever a boundary has no reading of it after it, so its energy stays exact while
// it costs no reading at most rounds. Internal: meters from outside the library are not marked.
#pragma once

#include <memory>

#include "epochwatt/meter.hpp"

namespace epochwatt::detail {

class LinearBetweenReads {
 public:
  virtual ~LinearBetweenReads() = default;
};

inline bool linear_between_reads(const std::shared_ptr<Meter>& m) {
  return dynamic_cast<const LinearBetweenReads*>(m.get()) != nullptr;
}

}  // namespace epochwatt::detail
