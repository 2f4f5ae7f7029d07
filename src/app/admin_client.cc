#include "app/admin_client.h"

#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/socket_address.h"

namespace ballast::app {

namespace {
bool send_all(int fd, const std::string& data) {
  size_t sent = 0;
  while (sent < data.size()) {
    ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    sent += static_cast<size_t>(n);
  }
  return true;
}

int blocking_connect(const core::SocketAddress& address, std::string* error) {
  int fd = ::socket(address.family(), SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *error = std::string("socket: ") + strerror(errno);
    return -1;
  }
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  if (::connect(fd, address.sa(), address.length()) != 0) {
    *error = "cannot reach the admin API at " + address.to_string() + ": " + strerror(errno) +
             " (is ballast running? set --admin or BALLAST_ADMIN)";
    ::close(fd);
    return -1;
  }
  return fd;
}
}  // namespace

std::string encode_segment(const std::string& s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '-' || c == '_' || c == '.' || c == '~';
    if (plain) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::optional<AdminReply> admin_request(const std::string& address, const std::string& token,
                                        const std::string& method, const std::string& path,
                                        const std::string& body, std::string* error) {
  auto parsed = core::SocketAddress::parse(address, error);
  if (!parsed) {
    *error = "admin address \"" + address + "\": " + *error;
    return std::nullopt;
  }
  int fd = blocking_connect(*parsed, error);
  if (fd < 0) return std::nullopt;
  std::string request = method + " " + path + " HTTP/1.1\r\nHost: " + address +
                        "\r\nUser-Agent: ballast-ctl\r\nConnection: close\r\n";
  if (!token.empty()) request += "Authorization: Bearer " + token + "\r\n";
  if (!body.empty() || method == "POST" || method == "PATCH") {
    request +=
        "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  }
  request += "\r\n" + body;
  std::string response;
  bool sent = send_all(fd, request);
  char chunk[16384];
  while (sent) {
    ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    response.append(chunk, static_cast<size_t>(n));
  }
  ::close(fd);
  size_t head_end = response.find("\r\n\r\n");
  int status = 0;
  if (head_end == std::string::npos || sscanf(response.c_str(), "HTTP/1.%*d %d", &status) != 1) {
    *error = "no valid HTTP answer from the admin API at " + address;
    return std::nullopt;
  }
  return AdminReply{status, response.substr(head_end + 4)};
}

std::optional<nlohmann::json> admin_get_json(const AdminEndpoint& api, const std::string& path,
                                             std::string* error) {
  auto reply = admin_request(api.address, api.token, "GET", path, "", error);
  if (!reply) return std::nullopt;
  auto j = nlohmann::json::parse(reply->body, nullptr, false);
  if (reply->status >= 300) {
    *error = std::to_string(reply->status) + ": " +
             (j.is_object() && j.contains("error") ? j["error"].get<std::string>() : reply->body);
    return std::nullopt;
  }
  if (j.is_discarded()) {
    *error = "the admin API answered something that is not JSON";
    return std::nullopt;
  }
  return j;
}

}  // namespace ballast::app
