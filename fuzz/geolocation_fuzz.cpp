// Fuzz target: the IP geolocation answer's reader (ipinfo.io's JSON, src/intensity/geolocation.cpp),
// which feeds the providers their location. geolocate never throws: an exception escaping, or a
// sanitizer finding, is a bug.
#include <cstddef>
#include <cstdint>
#include <memory>

#include "fuzz_support.hpp"
#include "intensity/geolocation.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace epochwatt::detail;
  GeolocationConfig c;
  c.http = std::make_shared<ewfuzz::CannedHttp>(std::string(ewfuzz::as_text(data, size)));
  std::string why;
  if (auto where = geolocate(c, &why)) (void)where->address();
  return 0;
}
