// Hardware tests: run the real backends against this machine's real RAPL zones and NVIDIA GPUs.
// Each test skips itself (GTEST_SKIP, with the backend's reason) where the hardware or the
// permission is absent, so the suite passes on machines without them. Label: hw.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "meters/nvml/nvml.hpp"
#include "meters/rapl/rapl.hpp"

using namespace epochwatt;
using namespace epochwatt::meters;

namespace {

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Busy one core for the given time so that the counters have something to count.
void spin_for(double seconds) {
  double end = now_s() + seconds;
  volatile double x = 0;
  while (now_s() < end) x = x + 1.0;
}

}  // namespace

TEST(HardwareRapl, PackageCounterAdvancesUnderLoad) {
  RaplConfig cfg;
  Discovery d = discover_rapl(cfg);
  if (d.meters.empty()) GTEST_SKIP() << "no readable RAPL zone: " << d.reason;
  for (auto& m : d.meters) m->open(now_s());
  spin_for(0.5);
  double total = 0;
  for (auto& m : d.meters) {
    MeterReading r = m->read(now_s());
    ASSERT_TRUE(r.ok) << m->info().id << ": " << r.error;
    EXPECT_GE(r.joules, 0.0);
    total += r.joules;
  }
  // Any CPU package draws well above 0.1 W while a core spins for half a second.
  EXPECT_GT(total, 0.05);
}

TEST(HardwareNvml, EveryGpuReportsEnergy) {
  NvmlConfig cfg;
  NvmlDiscovery d = find_nvml(cfg);
  if (d.meters.empty()) GTEST_SKIP() << "no NVIDIA GPU measurable: " << d.reason;
  for (auto& m : d.meters) m->open(now_s());
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  for (auto& m : d.meters) {
    MeterReading r = m->read(now_s());
    ASSERT_TRUE(r.ok) << m->info().id << ": " << r.error;
    // An idle datacentre GPU draws tens of watts: more than 1 J in 0.6 s.
    EXPECT_GT(r.joules, 1.0) << m->info().device_name;
  }
}
