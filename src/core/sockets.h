#pragma once
#include <string>

#include "core/io_result.h"
#include "core/socket_address.h"

namespace ballast::core {

// Non-blocking listening socket. With `reuse_port` each worker thread can bind its own
// socket to the same address and the kernel spreads connections between them.
// Returns the fd, or -1 with `error` set.
int listen_tcp(const SocketAddress& address, bool reuse_port, int backlog, std::string* error);

// Starts a non-blocking connect. Returns the fd (connection may still be in progress),
// or -1 with errno describing the failure.
int connect_tcp(const SocketAddress& address);

// The pending error of a socket (SO_ERROR), 0 when the connect succeeded.
int socket_error(int fd);

void set_tcp_nodelay(int fd);

// One recv() / send() on a non-blocking socket, told as an IoResult (kWantRead / kWantWrite
// for EAGAIN, kClosed for EOF, kFailed for a reset). recv, not read: it skips the
// file-position lock read() takes (measurable per request); send with MSG_NOSIGNAL.
IoResult receive_some(int fd, char* buf, size_t len);
IoResult send_some(int fd, const char* buf, size_t len);

// The address a socket is bound to (useful after binding port 0).
SocketAddress local_address(int fd);

}  // namespace ballast::core
