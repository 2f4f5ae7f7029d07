#pragma once
#include <cstdint>
#include <string_view>
#include <vector>

#include "http/headers.h"

namespace ballast::http {

// A parsed request or response head. Views point into the connection's input buffer
// and are valid only while the head is being handled (inside MessageSink::on_head).
struct MessageHead {
  // Request fields.
  std::string_view method;
  std::string_view target;
  bool is_head_request = false;
  // Response fields.
  int status = 0;
  std::string_view reason;
  // Both.
  uint8_t version_major = 1;
  uint8_t version_minor = 1;
  std::vector<Header> headers;
  std::string_view host;        // the Host header, when present
  std::string_view connection;  // the Connection header value, when present
  bool keep_alive = true;       // as llhttp decides from version and Connection
  bool chunked = false;
  bool has_content_length = false;
  uint64_t content_length = 0;
  bool upgrade = false;  // Connection: upgrade with an Upgrade header (request), or a 101

  void clear();
  // First header with this name (case-insensitive), or an empty view.
  std::string_view find(std::string_view name) const;
};

}  // namespace ballast::http
