#include "core/listen_address.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <charconv>

#include "epochwatt/errors.hpp"

namespace epochwatt::detail {

ListenAddress parse_listen_address(std::string_view text) {
  auto fail = [&](const std::string& why) -> ListenAddress {
    throw OptionsError("metrics_listen '" + std::string(text) + "': " + why +
                       "; expected ADDR:PORT, e.g. 127.0.0.1:9400, :9400 (127.0.0.1) or [::1]:9400.");
  };
  std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return fail("no port");
  std::string_view host = text.substr(0, colon), port = text.substr(colon + 1);
  ListenAddress a;
  if (port.empty()) return fail("no port");
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), a.port);
  if (ec != std::errc{} || end != port.data() + port.size() || a.port < 0 || a.port > 65535)
    return fail("the port must be a number from 0 to 65535");
  if (host.empty() || host == "localhost") {
    a.host = kDefaultListenHost;
    return a;
  }
  unsigned char buf[sizeof(in6_addr)];
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    a.host = std::string(host.substr(1, host.size() - 2));
    if (::inet_pton(AF_INET6, a.host.c_str(), buf) != 1) return fail("'" + a.host + "' is not an IPv6 address");
    return a;
  }
  a.host = std::string(host);
  if (::inet_pton(AF_INET, a.host.c_str(), buf) != 1)
    return fail("'" + a.host + "' is not a numeric IPv4 address (IPv6 goes in brackets; host names are not resolved)");
  return a;
}

}  // namespace epochwatt::detail
