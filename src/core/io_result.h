#pragma once
#include <cstddef>

namespace ballast::core {

// What one non-blocking transfer on a connection did. A plain socket only ever waits on
// its own direction; a TLS connection may wait on the other one (a read that must send a
// handshake flight, a write that must first read), so the caller is told which.
enum class IoState {
  kOk,         // `bytes` moved (more than zero)
  kWantRead,   // nothing moved; try again once the socket is readable
  kWantWrite,  // nothing moved; try again once the socket is writable
  kClosed,     // the peer closed its side
  kFailed,     // the connection is broken (reset, protocol failure): close it
};

struct IoResult {
  IoState state;
  size_t bytes = 0;
};

}  // namespace ballast::core
