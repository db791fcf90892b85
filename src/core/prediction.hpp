// Internals of the prediction (core/prediction.cpp), exposed for tests.
#pragma once

namespace epochwatt::detail {

// The standard normal's p-quantile, p in (0, 1) (Abramowitz & Stegun 26.2.23, |error| < 4.5e-4).
double normal_quantile(double p);
// Student's t p-quantile, p in [0.5, 1), nu >= 1 degrees of freedom (exact for nu = 1, 2; the
// Cornish-Fisher expansion of Abramowitz & Stegun 26.7.5 above).
double t_quantile(double p, int nu);

}  // namespace epochwatt::detail
