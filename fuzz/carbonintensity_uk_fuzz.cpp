// Fuzz target: the carbonintensity.org.uk provider's reading of an answer (national and regional,
// current and forecast, src/intensity/providers/carbonintensity_uk.cpp); every request is
// answered with the input.
#include <cstddef>
#include <cstdint>
#include <memory>

#include "fuzz_support.hpp"
#include "intensity/providers/carbonintensity_uk.hpp"
#include "provider_fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace epochwatt::detail;
  CarbonIntensityUkConfig c;
  c.request_template = ewfuzz::one_attempt();
  c.http = std::make_shared<ewfuzz::CannedHttp>(std::string(ewfuzz::as_text(data, size)));
  auto p = make_carbonintensity_uk_provider(c);
  epochwatt::Location national;
  ewfuzz::exercise_provider(*p, national);
  epochwatt::Location by_postcode;
  by_postcode.postcode = "RG10";
  ewfuzz::exercise_provider(*p, by_postcode);
  return 0;
}
