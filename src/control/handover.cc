#include "control/handover.h"

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "core/fd_passing.h"

namespace ballast::control {

namespace {
constexpr size_t kMaxMessage = 1 << 20;

std::string to_hex(const std::string& bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

std::optional<std::string> from_hex(const std::string& hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  std::string out;
  for (size_t i = 0; i < hex.size(); i += 2) {
    int v = 0;
    for (char c : hex.substr(i, 2)) {
      int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
      if (d < 0) return std::nullopt;
      v = v * 16 + d;
    }
    out.push_back(static_cast<char>(v));
  }
  return out;
}
}  // namespace

void Handover::close_unused() {
  for (auto& [address, fds] : listeners) {
    for (int fd : fds) {
      if (fd >= 0) ::close(fd);
    }
    fds.clear();
  }
  if (admin_fd >= 0) ::close(admin_fd);
  admin_fd = -1;
}

bool send_handover(int socket, const Handover& h, std::string* error) {
  nlohmann::json listeners = nlohmann::json::array();
  std::vector<int> fds;
  for (const auto& [address, list] : h.listeners) {
    listeners.push_back({{"address", address}, {"count", list.size()}});
    fds.insert(fds.end(), list.begin(), list.end());
  }
  if (h.admin_fd >= 0) fds.push_back(h.admin_fd);
  nlohmann::json message = {{"pid", h.old_pid},
                            {"listeners", listeners},
                            {"admin", h.admin_fd >= 0 ? h.admin_address : ""},
                            {"ticket_keys", to_hex(h.ticket_keys)}};
  return core::send_with_fds(socket, message.dump(), fds, error);
}

std::optional<Handover> receive_handover(int socket, int timeout_ms, std::string* error) {
  std::string payload;
  std::vector<int> fds;
  if (!core::receive_with_fds(socket, kMaxMessage, timeout_ms, &payload, &fds, error)) {
    for (int fd : fds) ::close(fd);
    return std::nullopt;
  }
  Handover h;
  auto fail = [&](const std::string& why) {
    *error = "the running ballast sent a handover this binary cannot read: " + why;
    for (int fd : fds) ::close(fd);
    return std::nullopt;
  };
  nlohmann::json m = nlohmann::json::parse(payload, nullptr, false);
  if (!m.is_object() || !m["listeners"].is_array()) return fail("not a handover message");
  size_t next = 0;
  for (const auto& l : m["listeners"]) {
    size_t count = l.value("count", size_t{0});
    if (next + count > fds.size()) return fail("fewer sockets than announced");
    std::vector<int>& list = h.listeners[l.value("address", "")];
    list.assign(fds.begin() + static_cast<long>(next),
                fds.begin() + static_cast<long>(next + count));
    next += count;
  }
  h.admin_address = m.value("admin", "");
  if (!h.admin_address.empty()) {
    if (next >= fds.size()) return fail("the admin socket is missing");
    h.admin_fd = fds[next++];
  }
  auto keys = from_hex(m.value("ticket_keys", ""));
  if (!keys) return fail("ticket keys are not hex");
  h.ticket_keys = *keys;
  h.old_pid = m.value("pid", 0);
  return h;
}

}  // namespace ballast::control
