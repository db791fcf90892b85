// Fuzz target: the Electricity Maps provider's reading of an answer (latest value and forecast,
// src/intensity/providers/electricitymaps.cpp); every request is answered with the input.
#include <cstddef>
#include <cstdint>
#include <memory>

#include "fuzz_support.hpp"
#include "intensity/providers/electricitymaps.hpp"
#include "provider_fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace epochwatt::detail;
  ElectricityMapsConfig c;
  c.token = "fuzz-token";
  c.request_template = ewfuzz::one_attempt();
  c.http = std::make_shared<ewfuzz::CannedHttp>(std::string(ewfuzz::as_text(data, size)));
  auto p = make_electricitymaps_provider(c);
  epochwatt::Location by_zone;
  by_zone.zone = "DE";
  ewfuzz::exercise_provider(*p, by_zone);
  epochwatt::Location by_coordinates;
  by_coordinates.lat = 55.7;
  by_coordinates.lon = 12.6;
  ewfuzz::exercise_provider(*p, by_coordinates);
  return 0;
}
