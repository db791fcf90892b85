// The embedded CPU TDP table (data/cpu-tdp.csv, compiled by the CodeCarbon project from Intel ARK
// and AMD product pages, MIT licence) and the matching of /proc/cpuinfo model names against it.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace epochwatt::meters {

struct TdpEntry {
  std::string model;       // as in the table, e.g. "Intel Xeon Gold 6248"
  double tdp_w = 0.0;
  std::string key;         // normalise_cpu_model(model), computed once
};

// The parsed table (parsed once, on first use; thread-safe).
const std::vector<TdpEntry>& tdp_table();

// Parse a TDP cell: "150.0", or a range written "27.29.5" (27.2-29.5 W) taken as its mean.
std::optional<double> parse_tdp_cell(std::string_view cell);

// Normalise a model name for matching: drop (R), (TM), "CPU", "Processor", "@ 2.50GHz",
// "N-Core", "with Radeon ... Graphics", collapse spaces, lower-case.
std::string normalise_cpu_model(std::string_view model);

struct TdpMatch {
  TdpEntry entry;
  std::string how;  // "exact" or "contained"
};
// Exact match of the normalised names first, else the longest table name contained in the
// model name at word boundaries.
std::optional<TdpMatch> match_cpu_tdp(std::string_view model_name);

}  // namespace epochwatt::meters
