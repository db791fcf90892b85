// Locale-independent number and time formatting shared by every reporter.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "epochwatt/run.hpp"

namespace epochwatt::detail {

using epochwatt::kJoulesPerKwh;  // epochwatt/run.hpp

// The items with `sep` between them ("a, b, c").
std::string join(const std::vector<std::string>& items, std::string_view sep);

// Fixed notation with `decimals` digits after the point, correctly rounded from the binary value
// (Python's "{:.Nf}"). NaN prints "nan", infinities "inf"/"-inf".
std::string fixed(double value, int decimals);

// Shortest decimal that reads back to the same double, in fixed notation with at least one
// decimal ("300.0", "0.00005", "469.06075000000004"); never scientific.
std::string shortest_fixed(double value);

// `digits` significant digits, plain or scientific whichever is shorter (printf's %g): "0.0123",
// "3.21e-05", "152". NaN prints "nan".
std::string significant(double value, int digits);

// A figure for people: `digits` significant digits (default 4), in fixed notation, trailing zeros
// dropped: 273.59999999999997 -> "273.6", 0.000123456 -> "0.0001235", 152 -> "152", 1234567 ->
// "1234567" (digits before the point are never cut). For every number a person reads (a TDP, a
// rate, a sentence) where the binary noise of shortest_fixed would only confuse; log values that a
// reader parses back keep shortest_fixed. NaN prints "nan", infinities "inf"/"-inf".
std::string readable(double value, int digits = 4);

// Whether a method's figures are measurements (counter, integrated-power, sampled-power, replay: a
// recorded measurement), estimates (estimate, simulated: a model or a fixed power, nothing read
// from the hardware) or of a method the source does not state (unknown).
enum class Basis { measured, estimated, unknown };
Basis basis_of(Method m);
std::string_view to_string(Basis b);  // "measured", "estimated", "unknown"

// How a device's figures come about, for people, beside each figure (docs/design.md: a user must
// never mistake an estimate for a measurement): "measured: energy counter", "measured: power
// readings integrated", "estimate: TDP x utilisation" (a CPU), "estimate: installed memory x W/GB"
// (DRAM), "simulated: fixed power", "measured: replayed trace", "method not stated".
std::string method_phrase(Component c, Method m);

// Python str() of a float: shortest round-trip, scientific below 1e-4 and from 1e16.
std::string python_float_repr(double value);

// Python's repr of a list of floats rounded to 2 decimals: "[445.0]", "[143.3, 151.25]".
std::string python_rounded_list(const std::vector<double>& values);

// Report "Time:" string: H:MM:SS, seconds rounded half-to-even, with carry.
std::string report_time(double seconds);
// Std-log "Duration:" string: H:MM:SS.ss, seconds as %05.2f, "60.00" carried.
std::string log_duration(double seconds);

// Local time "YYYY-MM-DD HH:MM:SS" (carbontracker's <ts>); with_millis adds ",mmm".
std::string local_timestamp(std::chrono::system_clock::time_point t, bool with_millis = false);
// UTC ISO 8601 "YYYY-MM-DDTHH:MM:SS.mmmZ".
std::string utc_iso8601(std::chrono::system_clock::time_point t);
// utc_iso8601's form read back ("YYYY-MM-DDTHH:MM:SS[.mmm]Z"); nullopt for anything else.
std::optional<std::chrono::system_clock::time_point> parse_utc_iso8601(const std::string& text);
// File-name stamp "%Y-%m-%dT%H%M%SZ" in real UTC.
std::string utc_file_stamp(std::chrono::system_clock::time_point t);

}  // namespace epochwatt::detail
