#pragma once
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tls/client_context.h"

namespace ballast::acme {

// Something went wrong talking to the CA; the message says what, for the log.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// "https://host[:port]/path", split.
struct Url {
  std::string host;  // without brackets for IPv6
  uint16_t port = 443;
  std::string path = "/";
  // Throws Error for anything but an https URL (RFC 8555 6.1: ACME is HTTPS only).
  static Url parse(const std::string& text);
  std::string authority() const;  // the Host header
};

struct HttpsResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // as received
  std::string body;
  // The first header with this name (any case), or empty.
  std::string header(std::string_view name) const;
};

// HTTPS for the ACME client, which runs on a thread of its own: each request is one
// connection (Connection: close), blocking, bounded by `timeout_ms`, and abandoned at once
// when `stop_fd` becomes readable (the process is stopping). The response is read with the
// project's strict HTTP/1.1 parser, and its body is capped (a CA's answers are small).
class HttpsClient {
 public:
  HttpsClient(std::shared_ptr<const tls::ClientContext> tls, int stop_fd, int64_t timeout_ms);
  HttpsResponse get(const std::string& url);
  HttpsResponse post(const std::string& url, const std::string& content_type,
                     const std::string& body);

 private:
  HttpsResponse exchange(const std::string& method, const std::string& url,
                         const std::string& content_type, const std::string& body);

  std::shared_ptr<const tls::ClientContext> tls_;
  int stop_fd_;
  int64_t timeout_ms_;
};

}  // namespace ballast::acme
