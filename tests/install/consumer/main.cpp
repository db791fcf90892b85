// Tracks two short simulated epochs with an installed epochwatt and prints the measured energy.
#include <epochwatt/epochwatt.hpp>

#include <iostream>
#include <sstream>

int main() {
  auto clock = std::make_shared<epochwatt::ManualClock>();
  std::ostringstream console;
  epochwatt::Options o;
  o.epochs = 2;
  o.sim_cpu = "consumer-cpu";
  o.sim_cpu_tdp = 100.0;  // 50 W at the default 50 % utilisation
  o.clock = clock;
  o.console = &console;
  epochwatt::Tracker tracker(o);
  for (int e = 0; e < 2; ++e) {
    tracker.epoch_start();
    clock->advance(36.0);
    tracker.epoch_end();
    tracker.flush();
  }
  tracker.stop();
  // 2 epochs x 36 s x 50 W = 3600 J = 0.001 kWh, x PUE 1.58 = 0.00158 kWh.
  std::cout << "version " << epochwatt::kVersion << " energy_kwh " << tracker.totals().energy_kwh << "\n";
  return tracker.totals().epochs == 2 ? 0 : 1;
}
