#include "meters/simulated/simulated.hpp"

namespace epochwatt::meters {
namespace {

class ConstantPowerMeter final : public Meter {
 public:
  ConstantPowerMeter(MeterInfo info, double watts) : info_(std::move(info)), watts_(watts) {}
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

std::shared_ptr<Meter> make_constant_power_meter(MeterInfo info, double watts) {
  return std::make_shared<ConstantPowerMeter>(std::move(info), watts);
}

std::shared_ptr<Meter> make_simulated_meter(Component component, std::string device_name,
                                            double watts) {
  MeterInfo info;
  info.id = std::string("sim:") + std::string(to_string(component));
  info.component = component;
  info.device_name = std::move(device_name);
  info.method = Method::simulated;
  return make_constant_power_meter(std::move(info), watts);
}

}  // namespace epochwatt::meters
