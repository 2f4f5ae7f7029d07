#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "config/config.h"
#include "core/socket_address.h"

namespace ballast::proxy {

// The PROXY protocol (HAProxy's proxy-protocol.txt, versions 1 and 2): a header a proxy
// sends first on a TCP connection to tell the next hop who the client really is.

struct ProxyHeader {
  enum class Status { kNeedMore, kInvalid, kComplete };
  Status status = Status::kNeedMore;
  size_t length = 0;  // the header's bytes (kComplete)
  // The client and the address it connected to; absent for a health check (v2 LOCAL) or
  // a client the sender could not describe (v1 UNKNOWN): the connection's own peer stands.
  std::optional<core::SocketAddress> source;
  std::optional<core::SocketAddress> destination;
  std::string error;  // kInvalid: what is wrong
};

// Reads a v1 or v2 header at the start of `bytes`.
ProxyHeader parse_proxy_header(std::string_view bytes);

// The header announcing a connection from `source` to `destination` (same family).
std::string proxy_header_v1(const core::SocketAddress& source,
                            const core::SocketAddress& destination);
std::string proxy_header_v2(const core::SocketAddress& source,
                            const core::SocketAddress& destination);

// Whether `peer` is a proxy `listener` takes PROXY protocol headers from.
bool sends_proxy_header(const config::ListenerConfig& listener, const core::SocketAddress& peer);

// The most bytes a header can take before its end is known: v1's 107, v2's 16.
constexpr size_t kProxyV1MaxLength = 107;

}  // namespace ballast::proxy
