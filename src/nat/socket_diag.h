#pragma once
#include <linux/inet_diag.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/socket_address.h"

namespace ballast::nat {

// This host's TCP sockets through the kernel's sock_diag netlink interface (as `ss` lists
// them and `ss -K` closes them).
struct TcpSocket {
  int family = 0;
  inet_diag_sockid id{};  // the kernel's identity of the socket, its cookie included
  uint64_t cookie = 0;
  uint8_t state = 0;  // TCP_ESTABLISHED, ... (netinet/tcp.h)
  core::SocketAddress peer;
};

// Every TCP socket of `family` (AF_INET, AF_INET6) in this network namespace, in any state.
bool list_tcp_sockets(int family, std::vector<TcpSocket>* out, std::string* why);
// Closes a socket as `ss -K` does: its owner's next call fails with ECONNABORTED and the
// peer gets a reset. Needs CAP_NET_ADMIN and a kernel with INET_DIAG_DESTROY. False with
// *why otherwise (ENOENT: it was gone already, which is reported as true).
bool destroy_tcp_socket(const TcpSocket& socket, std::string* why);

}  // namespace ballast::nat
