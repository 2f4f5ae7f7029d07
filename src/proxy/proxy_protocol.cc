#include "proxy/proxy_protocol.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>
#include <vector>

namespace ballast::proxy {

namespace {

constexpr char kV2Signature[] = "\r\n\r\n\0\r\nQUIT\n";
constexpr size_t kV2SignatureLength = 12;

ProxyHeader invalid(std::string why) {
  ProxyHeader h;
  h.status = ProxyHeader::Status::kInvalid;
  h.error = std::move(why);
  return h;
}

std::vector<std::string_view> split_spaces(std::string_view line) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (size_t i = 0; i <= line.size(); ++i) {
    if (i == line.size() || line[i] == ' ') {
      out.push_back(line.substr(start, i - start));
      start = i + 1;
    }
  }
  return out;
}

std::optional<core::SocketAddress> v1_address(std::string_view ip, std::string_view port, bool v6) {
  uint16_t p = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
  if (ec != std::errc() || end != port.data() + port.size() || port.empty() ||
      (port.size() > 1 && port[0] == '0'))
    return std::nullopt;
  std::string text = v6 ? "[" + std::string(ip) + "]:" : std::string(ip) + ":";
  text += std::to_string(p);
  std::string error;
  auto a = core::SocketAddress::parse(text, &error, /*resolve=*/false);
  if (!a || a->family() != (v6 ? AF_INET6 : AF_INET)) return std::nullopt;
  return a;
}

ProxyHeader parse_v1(std::string_view bytes) {
  size_t end = bytes.find("\r\n");
  if (end == std::string_view::npos) {
    if (bytes.size() >= kProxyV1MaxLength) return invalid("PROXY v1 line longer than 107 bytes");
    return {};
  }
  if (end + 2 > kProxyV1MaxLength) return invalid("PROXY v1 line longer than 107 bytes");
  std::vector<std::string_view> f = split_spaces(bytes.substr(0, end));
  ProxyHeader h;
  h.status = ProxyHeader::Status::kComplete;
  h.length = end + 2;
  if (f.size() >= 2 && f[1] == "UNKNOWN") return h;  // the sender does not know: ignore the rest
  if (f.size() != 6 || (f[1] != "TCP4" && f[1] != "TCP6"))
    return invalid("PROXY v1 line is not \"PROXY TCP4|TCP6 src dst sport dport\"");
  bool v6 = f[1] == "TCP6";
  h.source = v1_address(f[2], f[4], v6);
  h.destination = v1_address(f[3], f[5], v6);
  if (!h.source || !h.destination) return invalid("PROXY v1 line has an invalid address or port");
  return h;
}

core::SocketAddress v4(const unsigned char* ip, const unsigned char* port) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  std::memcpy(&sa.sin_addr, ip, 4);
  std::memcpy(&sa.sin_port, port, 2);
  return core::SocketAddress::from_sockaddr(reinterpret_cast<sockaddr*>(&sa), sizeof(sa));
}

core::SocketAddress v6(const unsigned char* ip, const unsigned char* port) {
  sockaddr_in6 sa{};
  sa.sin6_family = AF_INET6;
  std::memcpy(&sa.sin6_addr, ip, 16);
  std::memcpy(&sa.sin6_port, port, 2);
  return core::SocketAddress::from_sockaddr(reinterpret_cast<sockaddr*>(&sa), sizeof(sa));
}

ProxyHeader parse_v2(std::string_view bytes) {
  if (bytes.size() < 16) return {};
  const auto* b = reinterpret_cast<const unsigned char*>(bytes.data());
  if ((b[12] >> 4) != 2)
    return invalid("PROXY v2 header with version " + std::to_string(b[12] >> 4));
  int command = b[12] & 0x0f;
  if (command > 1) return invalid("PROXY v2 header with an unknown command");
  size_t rest = (size_t{b[14]} << 8) | b[15];
  if (bytes.size() < 16 + rest) return {};
  ProxyHeader h;
  h.status = ProxyHeader::Status::kComplete;
  h.length = 16 + rest;
  if (command == 0) return h;  // LOCAL: the sender's own connection (a health check)
  int family = b[13] >> 4;
  const unsigned char* a = b + 16;
  if (family == 1) {
    if (rest < 12) return invalid("PROXY v2 header too short for IPv4 addresses");
    h.source = v4(a, a + 8);
    h.destination = v4(a + 4, a + 10);
  } else if (family == 2) {
    if (rest < 36) return invalid("PROXY v2 header too short for IPv6 addresses");
    h.source = v6(a, a + 32);
    h.destination = v6(a + 16, a + 34);
  }
  // UNSPEC and UNIX: nothing a TCP proxy can use; the connection's own peer stands.
  return h;
}

}  // namespace

bool sends_proxy_header(const config::ListenerConfig& listener, const core::SocketAddress& peer) {
  for (const auto& range : listener.accept_proxy_from) {
    if (range.contains(peer)) return true;
  }
  return false;
}

ProxyHeader parse_proxy_header(std::string_view bytes) {
  std::string_view sig(kV2Signature, kV2SignatureLength);
  if (bytes.substr(0, std::min(bytes.size(), kV2SignatureLength)) ==
      sig.substr(0, std::min(bytes.size(), kV2SignatureLength))) {
    return bytes.size() < kV2SignatureLength ? ProxyHeader{} : parse_v2(bytes);
  }
  std::string_view v1 = "PROXY ";
  if (bytes.substr(0, std::min(bytes.size(), v1.size())) ==
      v1.substr(0, std::min(bytes.size(), v1.size()))) {
    return bytes.size() < v1.size() ? ProxyHeader{} : parse_v1(bytes);
  }
  return invalid("the connection does not start with a PROXY protocol header");
}

std::string proxy_header_v1(const core::SocketAddress& source,
                            const core::SocketAddress& destination) {
  bool six = source.family() == AF_INET6;
  return std::string("PROXY ") + (six ? "TCP6 " : "TCP4 ") + source.ip_string() + " " +
         destination.ip_string() + " " + std::to_string(source.port()) + " " +
         std::to_string(destination.port()) + "\r\n";
}

std::string proxy_header_v2(const core::SocketAddress& source,
                            const core::SocketAddress& destination) {
  std::string out(kV2Signature, kV2SignatureLength);
  out.push_back(static_cast<char>(0x21));  // version 2, PROXY
  bool six = source.family() == AF_INET6;
  out.push_back(static_cast<char>(six ? 0x21 : 0x11));  // INET6 or INET, STREAM
  uint16_t length = six ? 36 : 12;
  out.push_back(static_cast<char>(length >> 8));
  out.push_back(static_cast<char>(length & 0xff));
  auto append = [&](const void* p, size_t n) { out.append(static_cast<const char*>(p), n); };
  if (six) {
    const auto* s = reinterpret_cast<const sockaddr_in6*>(source.sa());
    const auto* d = reinterpret_cast<const sockaddr_in6*>(destination.sa());
    append(&s->sin6_addr, 16);
    append(&d->sin6_addr, 16);
    append(&s->sin6_port, 2);
    append(&d->sin6_port, 2);
  } else {
    const auto* s = reinterpret_cast<const sockaddr_in*>(source.sa());
    const auto* d = reinterpret_cast<const sockaddr_in*>(destination.sa());
    append(&s->sin_addr, 4);
    append(&d->sin_addr, 4);
    append(&s->sin_port, 2);
    append(&d->sin_port, 2);
  }
  return out;
}

}  // namespace ballast::proxy
