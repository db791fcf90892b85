// The upper bounds on numbers a user or a file can give. Every number read from an option, an
// environment variable, a config file, a cache entry, a log, a trace or an API answer is checked
// against its bound (and for being finite and non-negative) before it reaches a total: a finite
// but absurd value such as 1e308 would otherwise overflow to inf once multiplied (energy x PUE x
// intensity). The bounds are generous on purpose: they catch a typo or a damaged file, never a
// real site. Each is documented in docs/options.md.
#pragma once

namespace epochwatt::limits {

// Power usage effectiveness, dimensionless. Uptime Institute's annual surveys report an industry
// average of 1.58 in 2023 (and about 2.5 in 2007, the first survey); no survey reports a facility
// above 3. 10 leaves room for any real facility and catches `158` typed for 1.58.
inline constexpr double kMaxPue = 10.0;

// Carbon intensity, gCO2eq/kWh. The dirtiest generation technology, coal, has a life-cycle median
// of 820 and a maximum of about 1,000 gCO2eq/kWh (IPCC AR5 WG III, Annex III, Table A.III.2); no
// grid can exceed its dirtiest source. 2,000 is twice that.
inline constexpr double kMaxIntensityGPerKwh = 2000.0;

// Power of one simulated device (sim_cpu_tdp, sim_gpu_watts), W. The largest single devices draw
// about 1 kW (NVIDIA B200: 1,000 W; a GB200 superchip: 2,700 W); a whole wafer-scale system
// (Cerebras CS-3) about 23 kW. 50 kW is above any one device.
inline constexpr double kMaxDeviceWatts = 50000.0;

// The sampler's update interval and the intensity refresh period, s. One day: a meter read less
// often than daily measures nothing per epoch, and day-ahead forecasts are the longest horizon a
// provider publishes.
inline constexpr double kMaxIntervalS = 86400.0;

// The energy of one job, kWh (`epochwatt plan --energy-kwh`, or read from a JSON summary): 1 TWh.
// The largest published training-run estimates are tens of GWh (Epoch AI's frontier-model
// estimates); 1 TWh is about 20 times that, and the grams it gives stay far from overflow.
inline constexpr double kMaxJobEnergyKwh = 1e9;

// A replay trace's time offset, s: about 31.7 years, and still exact to the microsecond in a double.
inline constexpr double kMaxReplayOffsetS = 1e9;

}  // namespace epochwatt::limits
