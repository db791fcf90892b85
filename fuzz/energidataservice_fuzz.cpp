// Fuzz target: the Energi Data Service provider's reading of an answer (one price area and the
// mean of both, current and forecast, src/intensity/providers/energidataservice.cpp); every
// request is answered with the input.
#include <cstddef>
#include <cstdint>
#include <memory>

#include "fuzz_support.hpp"
#include "intensity/providers/energidataservice.hpp"
#include "provider_fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace epochwatt::detail;
  EnergiDataServiceConfig c;
  c.request_template = ewfuzz::one_attempt();
  c.http = std::make_shared<ewfuzz::CannedHttp>(std::string(ewfuzz::as_text(data, size)));
  auto p = make_energidataservice_provider(c);
  epochwatt::Location dk1;
  dk1.zone = "DK-DK1";
  ewfuzz::exercise_provider(*p, dk1);
  epochwatt::Location both;
  ewfuzz::exercise_provider(*p, both);
  return 0;
}
