// Feeds arbitrary bytes to the PROXY protocol reader, which sees a trusted peer's first
// bytes. Checks what the sessions rely on: a complete header's length lies within the
// input, an address it names is one the writers can state again, and reading a prefix of a
// complete header never claims it complete.
#include "proxy/proxy_protocol.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  using ballast::proxy::ProxyHeader;
  ProxyHeader h = ballast::proxy::parse_proxy_header(in);
  if (h.status != ProxyHeader::Status::kComplete) return 0;
  if (h.length == 0 || h.length > in.size()) abort();
  if (h.length > 1 && ballast::proxy::parse_proxy_header(in.substr(0, h.length - 1)).status ==
                          ProxyHeader::Status::kComplete) {
    abort();
  }
  if (h.source && h.destination && h.source->family() == h.destination->family()) {
    for (bool v2 : {false, true}) {
      std::string again = v2 ? ballast::proxy::proxy_header_v2(*h.source, *h.destination)
                             : ballast::proxy::proxy_header_v1(*h.source, *h.destination);
      ProxyHeader back = ballast::proxy::parse_proxy_header(again);
      if (back.status != ProxyHeader::Status::kComplete || !(*back.source == *h.source)) abort();
    }
  }
  return 0;
}
