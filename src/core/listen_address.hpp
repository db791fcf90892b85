// The address of the metrics endpoint (Options::metrics_listen): "ADDR:PORT", ":PORT" or
// "[IPv6]:PORT". Parsing only: nothing is bound here (the server lives in report/metrics_server).
#pragma once

#include <string>
#include <string_view>

namespace epochwatt::detail {

struct ListenAddress {
  std::string host;  // a numeric IPv4 or IPv6 address (without brackets), as inet_pton reads it
  int port = 0;      // 0..65535; 0: any free port, chosen when the server binds
};

// The loopback address that ":PORT" means: the endpoint is not reachable from other hosts unless
// the user names an address (0.0.0.0, a NIC's address).
inline constexpr const char* kDefaultListenHost = "127.0.0.1";

// Parses "ADDR:PORT" (ADDR a numeric IPv4 address, "localhost", or "[IPv6]"), or ":PORT".
// Throws OptionsError with the text and what was expected. Host names other than "localhost" are
// refused: resolving them would need the network at start-up, and the bind would be ambiguous.
ListenAddress parse_listen_address(std::string_view text);

}  // namespace epochwatt::detail
