#pragma once
#include <netinet/in.h>
#include <sys/socket.h>

#include <optional>
#include <string>
#include <string_view>

namespace ballast::core {

// An IPv4 or IPv6 address with a port.
class SocketAddress {
 public:
  SocketAddress() = default;
  // Parses "1.2.3.4:80", "[::1]:80", "*:80" / ":80" (all interfaces) and, when
  // `resolve` is set, "host.name:80" through getaddrinfo. On failure returns nullopt
  // and sets `error` to a sentence saying what is wrong.
  static std::optional<SocketAddress> parse(std::string_view text, std::string* error,
                                            bool resolve = true);
  static SocketAddress from_sockaddr(const sockaddr* sa, socklen_t len);

  const sockaddr* sa() const { return reinterpret_cast<const sockaddr*>(&storage_); }
  socklen_t length() const { return length_; }
  int family() const { return storage_.ss_family; }
  uint16_t port() const;
  // The same address with another port.
  SocketAddress with_port(uint16_t port) const;
  bool is_wildcard() const;
  // "1.2.3.4:80" or "[::1]:80".
  std::string to_string() const;
  // Just the IP, as used in X-Forwarded-For.
  std::string ip_string() const;
  bool operator==(const SocketAddress& other) const;

 private:
  sockaddr_storage storage_{};
  socklen_t length_ = 0;
};

}  // namespace ballast::core
