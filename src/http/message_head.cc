#include "http/message_head.h"

namespace ballast::http {

void MessageHead::clear() {
  method = target = reason = host = connection = {};
  is_head_request = false;
  status = 0;
  version_major = 1;
  version_minor = 1;
  headers.clear();
  keep_alive = true;
  chunked = false;
  has_content_length = false;
  content_length = 0;
  upgrade = false;
}

std::string_view MessageHead::find(std::string_view name) const {
  for (const auto& h : headers) {
    if (iequals(h.name, name)) return h.value;
  }
  return {};
}

}  // namespace ballast::http
