#pragma once
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace ballast::control {

// What a running ballast hands to the new binary in a zero-downtime upgrade, over a Unix
// socket: its listening sockets (the descriptors themselves, SCM_RIGHTS, so the kernel's
// accept queues carry over and no connection is refused), its admin socket, and its TLS
// session-ticket keys (so sessions resume across the upgrade).
struct Handover {
  int old_pid = 0;
  // Listening sockets by address ("127.0.0.1:8080"): one per worker of the old process.
  std::map<std::string, std::vector<int>> listeners;
  std::string admin_address;  // empty: no admin socket
  int admin_fd = -1;
  std::string ticket_keys;  // tls::TicketKeys::export_keys()

  // Closes every descriptor still held (those the new process did not take).
  void close_unused();
};

bool send_handover(int socket, const Handover& handover, std::string* error);
// Waits up to `timeout_ms` for the handover.
std::optional<Handover> receive_handover(int socket, int timeout_ms, std::string* error);

// The new process's answer on the same socket: "ready" once it accepts connections, or
// why it could not start.
constexpr const char* kReadyAnswer = "ready\n";

}  // namespace ballast::control
