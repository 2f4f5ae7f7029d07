#include "proxy/local_response.h"

#include <string>

#include "http/status.h"
#include "proxy/router.h"

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

void write_generated_response(core::Buffer& out, const GeneratedResponse& response,
                              bool head_request, bool client_http11, bool keep_alive) {
  out.append("HTTP/1.1 ");
  out.append_decimal(static_cast<uint64_t>(response.status));
  out.append_char(' ');
  out.append(http::reason_phrase(response.status));
  out.append("\r\nServer: ballast");
  if (!response.location.empty()) {
    out.append("\r\nLocation: ");
    out.append(response.location);
  }
  if (!response.body.empty()) {
    out.append("\r\nContent-Type: ");
    out.append(response.content_type);
  }
  out.append("\r\nContent-Length: ");
  out.append_decimal(response.body.size());
  if (!keep_alive && client_http11) out.append("\r\nConnection: close");
  if (keep_alive && !client_http11) out.append("\r\nConnection: keep-alive");
  out.append("\r\n");
  out.append(response.extra_lines);
  out.append(response.policy_lines);
  out.append("\r\n");
  if (!head_request) out.append(response.body);
}

std::string expand_location(std::string_view location_template, std::string_view host_header,
                            std::string_view target, uint16_t listener_port,
                            std::string_view protocol) {
  std::string_view host = host_without_port(host_header);
  std::string port = std::to_string(listener_port);
  if (host.size() < host_header.size() && host_header[host.size()] == ':') {
    port = std::string(host_header.substr(host.size() + 1));
  }
  std::string_view path = path_of(target);
  size_t q = target.find('?');
  std::string_view query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
  std::string out;
  for (size_t i = 0; i < location_template.size();) {
    auto try_put = [&](std::string_view name, std::string_view value) {
      if (location_template.substr(i, name.size()) != name) return false;
      out.append(value);
      i += name.size();
      return true;
    };
    if (try_put("#{protocol}", protocol) || try_put("#{host}", host) || try_put("#{port}", port) ||
        try_put("#{path}", path) || try_put("#{query}", query)) {
      continue;
    }
    out.push_back(location_template[i++]);
  }
  if (!out.empty() && out.back() == '?') out.pop_back();
  return out;
}

}  // namespace ballast::proxy
