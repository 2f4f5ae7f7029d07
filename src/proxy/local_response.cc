#include "proxy/local_response.h"

#include <string>

#include "http/status.h"

namespace ballast::proxy {

void write_local_response(core::Buffer& out, int status, std::string_view detail) {
  std::string body = std::to_string(status) + " " + std::string(http::reason_phrase(status));
  if (!detail.empty()) body += ": " + std::string(detail);
  body += "\n";
  out.append("HTTP/1.1 ");
  out.append_decimal(static_cast<uint64_t>(status));
  out.append_char(' ');
  out.append(http::reason_phrase(status));
  out.append("\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ");
  out.append_decimal(body.size());
  out.append("\r\nConnection: close\r\nServer: ballast\r\n\r\n");
  out.append(body);
}

}  // namespace ballast::proxy
