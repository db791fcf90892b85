// The JSON summary's epochs (schema version 3: columns, docs/json-summary.md) as one object per
// epoch, the shape of versions 1 and 2, so that tests can look at "the second epoch's first device".
#pragma once

#include <nlohmann/json.hpp>

namespace ewtest {

// [{"epoch", "interrupted", "duration_s", "joules", "devices": [{"meter", "device", "component",
// "method", "joules", "complete"}]}]: rows of the columns; a device with null joules in a row is
// left out of that epoch.
inline nlohmann::json summary_epochs(const nlohmann::json& summary) {
  using nlohmann::json;
  const json& t = summary.at("epochs");
  json out = json::array();
  const std::size_t rows = t.at("epoch").size();
  auto listed = [](const json& arr, std::size_t row) {
    for (const auto& v : arr)
      if (v.get<std::size_t>() == row) return true;
    return false;
  };
  for (std::size_t i = 0; i < rows; ++i) {
    json e{{"epoch", t["epoch"][i]},
           {"interrupted", listed(t.at("interrupted_rows"), i)},
           {"duration_s", t["duration_s"][i]},
           {"joules", t["joules"][i]},
           {"devices", json::array()}};
    for (const auto& d : t.at("devices")) {
      if (d.at("joules")[i].is_null()) continue;
      e["devices"].push_back({{"meter", d["meter"]},
                              {"device", d["device"]},
                              {"component", d["component"]},
                              {"method", d["method"]},
                              {"joules", d["joules"][i]},
                              {"complete", !listed(d.at("incomplete_rows"), i)}});
    }
    out.push_back(e);
  }
  return out;
}

}  // namespace ewtest
