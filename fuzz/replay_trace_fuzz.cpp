// Fuzz target: the replay backend's trace reader (src/meters/replay/replay.cpp, load_trace) and
// the meter that plays what it read, in counter and in power mode, read before, during and after
// the trace. Expected failure: epochwatt::Error naming the file and line. Anything else, or a
// sanitizer finding, is a bug.
#include <cstddef>
#include <cstdint>

#include "epochwatt/errors.hpp"
#include "fuzz_support.hpp"
#include "meters/replay/replay.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace epochwatt;
  std::string path = ewfuzz::scratch().write("trace.csv", ewfuzz::as_text(data, size));
  std::vector<meters::TraceSample> trace;
  try {
    trace = meters::load_trace(path);
  } catch (const Error&) {
    return 0;
  }
  if (trace.empty()) return 0;
  double span = trace.back().t_s - trace.front().t_s;
  for (bool use_power : {false, true}) {
    auto m = meters::make_replay_meter(trace, Component::gpu, "fuzz", use_power, trace.front().t_s);
    m->open(0.0);
    for (double t : {0.0, span / 3, span / 2, span, span + 1.0}) (void)m->read(t);
  }
  return 0;
}
