#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/socket_address.h"

namespace ballast::core {

// A block of addresses in CIDR notation: "10.0.0.0/8", "2001:db8::/32"; a bare address is
// the block of that one address. IPv4-mapped IPv6 addresses (::ffff:10.1.2.3) count as the
// IPv4 address they carry.
class IpRange {
 public:
  // nullopt, with `error` saying what is wrong, when `text` is not a range.
  static std::optional<IpRange> parse(std::string_view text, std::string* error);
  bool contains(const SocketAddress& address) const;
  const std::string& text() const { return text_; }

 private:
  bool v4_ = true;
  std::array<uint8_t, 16> bytes_{};
  int prefix_ = 0;
  std::string text_;
};

}  // namespace ballast::core
