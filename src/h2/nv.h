#pragma once
#include <nghttp2/nghttp2.h>

#include <string>
#include <string_view>

#include "core/buffer.h"

namespace ballast::h2 {

// One field as nghttp2 takes it (it copies name and value before the call returns).
inline nghttp2_nv nv(std::string_view name, std::string_view value) {
  return nghttp2_nv{reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
                    reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), name.size(),
                    value.size(), NGHTTP2_NV_FLAG_NONE};
}

// The frames nghttp2 has queued, appended to `out` until it holds `max` bytes or none is
// left. False on a fatal error, with nghttp2's words in `failure` (when it is empty).
inline bool take_frames(nghttp2_session* session, core::Buffer& out, size_t max,
                        std::string& failure) {
  while (out.size() < max) {
    const uint8_t* data = nullptr;
    ssize_t n = nghttp2_session_mem_send(session, &data);
    if (n < 0) {
      if (failure.empty()) failure = nghttp2_strerror(static_cast<int>(n));
      return false;
    }
    if (n == 0) break;
    out.append(reinterpret_cast<const char*>(data), static_cast<size_t>(n));
  }
  return true;
}

}  // namespace ballast::h2
