#include "meters/simulated/simulated.hpp"

namespace epochwatt::meters {
namespace {

class SimulatedMeter final : public Meter {
 public:
  SimulatedMeter(Component component, std::string device_name, double watts) : watts_(watts) {
    info_.id = std::string("sim:") + std::string(to_string(component));
    info_.component = component;
    info_.device_name = std::move(device_name);
    info_.method = Method::simulated;
  }
  const MeterInfo& info() const override { return info_; }
  void open(double t) override { t_open_ = t; }
  MeterReading read(double t) override {
    MeterReading r;
    r.joules = t > t_open_ ? watts_ * (t - t_open_) : 0.0;
    return r;
  }

 private:
  MeterInfo info_;
  double watts_;
  double t_open_ = 0.0;
};

}  // namespace

std::shared_ptr<Meter> make_simulated_meter(Component component, std::string device_name,
                                            double watts) {
  return std::make_shared<SimulatedMeter>(component, std::move(device_name), watts);
}

}  // namespace epochwatt::meters
