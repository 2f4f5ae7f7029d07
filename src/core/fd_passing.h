#pragma once
#include <string>
#include <vector>

namespace ballast::core {

// Sends `payload` and `fds` (SCM_RIGHTS) as one message on a connected Unix stream socket.
// The receiver gets its own descriptors for the same open files (listening sockets keep
// their queues). False, with `error`, when it cannot.
bool send_with_fds(int socket, const std::string& payload, const std::vector<int>& fds,
                   std::string* error);

// Receives one message sent by send_with_fds: up to `max_payload` bytes and the descriptors
// that came with them (close-on-exec set), waiting at most `timeout_ms`.
bool receive_with_fds(int socket, size_t max_payload, int timeout_ms, std::string* payload,
                      std::vector<int>* fds, std::string* error);

// Sends a datagram to systemd's notification socket ($NOTIFY_SOCKET), as sd_notify(3)
// does: "READY=1", "MAINPID=123\nREADY=1", "STOPPING=1". Nothing without systemd.
void notify_systemd(const std::string& state);

}  // namespace ballast::core
