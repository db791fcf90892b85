// epochwatt: measure and predict the energy and carbon footprint of training runs.
// Include this one header for the whole public C++ API.
#pragma once

#include "epochwatt/clock.hpp"
#include "epochwatt/defaults.hpp"
#include "epochwatt/errors.hpp"
#include "epochwatt/intensity.hpp"
#include "epochwatt/meter.hpp"
#include "epochwatt/options.hpp"
#include "epochwatt/registry.hpp"
#include "epochwatt/reporter.hpp"
#include "epochwatt/run.hpp"
#include "epochwatt/tracker.hpp"
#include "epochwatt/version.hpp"
