// A consumer of the core layer alone (epochwatt::core / epochwatt-core.pc): its own meter, a fixed
// intensity and its own reporter, injected into the core Tracker. Links threads and nothing else:
// no curl, no JSON library, no backend, no reporter of epochwatt's.
#include <epochwatt/clock.hpp>
#include <epochwatt/reporter.hpp>
#include <epochwatt/tracker.hpp>

#include <iostream>
#include <memory>

namespace {

class ConstantMeter final : public epochwatt::Meter {
 public:
  ConstantMeter() { info_ = {"my:gpu", epochwatt::Component::gpu, "my-gpu", epochwatt::Method::simulated, 0.0, "100 W"}; }
  const epochwatt::MeterInfo& info() const override { return info_; }
  void open(double t) override { t0_ = t; }
  epochwatt::MeterReading read(double t) override {
    epochwatt::MeterReading r;
    r.joules = 100.0 * (t - t0_);
    return r;
  }

 private:
  epochwatt::MeterInfo info_;
  double t0_ = 0.0;
};

class PrintingReporter final : public epochwatt::Reporter {
 public:
  void run_finished(const epochwatt::Run& run) override {
    std::cout << "finished " << run.actual->epochs << " epochs, " << run.actual->co2_g << " gCO2e\n";
  }
};

}  // namespace

int main() {
  auto clock = std::make_shared<epochwatt::ManualClock>();
  epochwatt::Options o;
  o.epochs = 2;
  o.clock = clock;
  o.pue = 1.0;
  epochwatt::TrackerParts parts;
  parts.meters.push_back(std::make_shared<ConstantMeter>());
  epochwatt::IntensityValue v;
  v.g_per_kwh = 360.0;
  v.source = "fixed";
  parts.intensity = epochwatt::fixed_intensity_source(v);
  parts.reporters.push_back(std::make_shared<PrintingReporter>());
  epochwatt::Tracker tracker(o, std::move(parts));
  for (int e = 0; e < 2; ++e) {
    tracker.epoch_start();
    tracker.flush();
    clock->advance(36.0);
    tracker.epoch_end();
    tracker.flush();
  }
  tracker.stop();
  // 100 W x 72 s = 7200 J = 0.002 kWh; x 360 gCO2e/kWh = 0.72 g.
  std::cout << "energy_kwh " << tracker.totals().energy_kwh << "\n";
  return tracker.totals().epochs == 2 ? 0 : 1;
}
