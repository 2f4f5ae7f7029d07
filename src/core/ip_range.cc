#include "core/ip_range.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace ballast::core {

namespace {
// The address's bytes as IPv4 (4) or IPv6 (16); IPv4-mapped IPv6 reads as IPv4.
int address_bytes(const SocketAddress& a, uint8_t out[16]) {
  if (a.family() == AF_INET) {
    std::memcpy(out, &reinterpret_cast<const sockaddr_in*>(a.sa())->sin_addr, 4);
    return 4;
  }
  if (a.family() != AF_INET6) return 0;
  const auto& v6 = reinterpret_cast<const sockaddr_in6*>(a.sa())->sin6_addr;
  if (IN6_IS_ADDR_V4MAPPED(&v6)) {
    std::memcpy(out, v6.s6_addr + 12, 4);
    return 4;
  }
  std::memcpy(out, v6.s6_addr, 16);
  return 16;
}
}  // namespace

std::optional<IpRange> IpRange::parse(std::string_view text, std::string* error) {
  IpRange r;
  r.text_ = std::string(text);
  std::string_view address = text;
  std::optional<int> prefix;
  if (size_t slash = text.find('/'); slash != std::string_view::npos) {
    address = text.substr(0, slash);
    int p = -1;
    std::string_view digits = text.substr(slash + 1);
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), p);
    if (ec != std::errc() || end != digits.data() + digits.size() || p < 0) {
      *error = "invalid prefix length in \"" + std::string(text) + "\"";
      return std::nullopt;
    }
    prefix = p;
  }
  std::string host(address);
  if (inet_pton(AF_INET, host.c_str(), r.bytes_.data()) == 1) {
    r.v4_ = true;
  } else if (inet_pton(AF_INET6, host.c_str(), r.bytes_.data()) == 1) {
    r.v4_ = false;
  } else {
    *error = "\"" + std::string(text) +
             "\" is not an address range: expected CIDR such as 10.0.0.0/8 or 2001:db8::/32";
    return std::nullopt;
  }
  int bits = r.v4_ ? 32 : 128;
  r.prefix_ = prefix.value_or(bits);
  if (r.prefix_ > bits) {
    *error = "prefix length " + std::to_string(r.prefix_) + " is longer than the " +
             std::to_string(bits) + " bits of the address in \"" + std::string(text) + "\"";
    return std::nullopt;
  }
  return r;
}

bool IpRange::contains(const SocketAddress& address) const {
  uint8_t bytes[16];
  int n = address_bytes(address, bytes);
  if (n != (v4_ ? 4 : 16)) return false;
  int full = prefix_ / 8;
  if (std::memcmp(bytes, bytes_.data(), static_cast<size_t>(full)) != 0) return false;
  int rest = prefix_ % 8;
  if (rest == 0) return true;
  auto mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (bytes[full] & mask) == (bytes_[static_cast<size_t>(full)] & mask);
}

}  // namespace ballast::core
