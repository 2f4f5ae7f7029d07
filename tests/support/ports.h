#pragma once
#include <netinet/in.h>

#include <cstdint>

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

// `count` consecutive ports (at most 64) for a server that hands out ports itself (an
// autoscaling group's `ports:` range).
struct PortRange {
  uint16_t first = 0;
  uint16_t last = 0;
};
PortRange free_port_range(int count);

}  // namespace ballast::test
