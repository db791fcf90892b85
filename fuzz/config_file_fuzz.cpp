// Fuzz target: the configuration file reader (src/intensity/config_file.cpp), then what the
// intensity service does with it: the API keys, the location precedence, the redaction of every
// warning. load_config_file never throws (its contract): any exception, or a sanitizer finding,
// is a bug.
#include <cstddef>
#include <cstdint>

#include "fuzz_support.hpp"
#include "intensity/config_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace epochwatt::detail;
  std::string path = ewfuzz::scratch().write("config.ini", ewfuzz::as_text(data, size));
  ConfigFile c = load_config_file(path);
  ApiKeys keys = load_api_keys(c);
  for (const auto& w : c.warnings) (void)redact(w, keys.secrets());
  epochwatt::Location none;
  (void)choose_location(none, none, c.location);
  return 0;
}
