#pragma once
#include <nghttp2/nghttp2.h>

#include <string_view>

namespace ballast::h2 {

// One field as nghttp2 takes it (it copies name and value before the call returns).
inline nghttp2_nv nv(std::string_view name, std::string_view value) {
  return nghttp2_nv{reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
                    reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), name.size(),
                    value.size(), NGHTTP2_NV_FLAG_NONE};
}

}  // namespace ballast::h2
