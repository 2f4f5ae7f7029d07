#pragma once
#include <string_view>
#include <utility>
#include <vector>

namespace ballast::h2 {

// Header fields to send: names in lower case; the views need only last through the call
// they are passed to (nghttp2 copies them).
using Fields = std::vector<std::pair<std::string_view, std::string_view>>;

}  // namespace ballast::h2
