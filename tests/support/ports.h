#pragma once
#include <netinet/in.h>

#include <cstdint>
#include <string>

namespace ballast::test {

// Ports for tests. ctest runs several test programs at once, and each starts servers on
// ports it picked before binding them; a port the kernel handed out as "free" could be
// taken in between by another program's server, or as the local port of anyone's
// outgoing connection. So each test program holds blocks of ports of its own: blocks lie
// outside the kernel's ephemeral range, and a lock file per block (released by the kernel
// when the program ends, however it ends) keeps programs apart.

// 127.0.0.1:port for bind() and connect().
sockaddr_in loopback_sockaddr(uint16_t port);

// A port of this program's blocks that nothing listens on; never the same one twice.
uint16_t free_port();

// A blocking TCP connection to 127.0.0.1:port from loopback address `source` (127.0.0.N, so
// a test can play several clients), non-blocking once connected when asked; -1 when it
// cannot connect.
int connect_from(const std::string& source, uint16_t port, bool nonblocking = false);

// `count` consecutive ports (at most 64) for a server that hands out ports itself (an
// autoscaling group's `ports:` range).
struct PortRange {
  uint16_t first = 0;
  uint16_t last = 0;
};
PortRange free_port_range(int count);

}  // namespace ballast::test
