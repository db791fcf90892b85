// ClosedAtStop: a mark a meter puts on itself when it holds something that others wait for while
// it lives (the node election's claims, src/meters/election): the sampler thread calls close(t)
// once, after its last round, when the tracker stops (stop(), the destructor, an ignored error
// that makes it inert), so that the thing is let go then and not only when the tracker object is
// destroyed. Internal: meters from outside the library are not marked, and are only destroyed.
#pragma once

#include <memory>

#include "epochwatt/meter.hpp"

namespace epochwatt::detail {

class ClosedAtStop {
 public:
  virtual ~ClosedAtStop() = default;
  // Called once by the sampler thread after the meter's last read(), at monotonic time t; no
  // read() follows. Must not throw.
  virtual void close(double t) noexcept = 0;
};

// Closes `m` when it carries the mark; does nothing otherwise.
inline void close_if_marked(const std::shared_ptr<Meter>& m, double t) noexcept {
  if (auto* c = dynamic_cast<ClosedAtStop*>(m.get())) c->close(t);
}

}  // namespace epochwatt::detail
