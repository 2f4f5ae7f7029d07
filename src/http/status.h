#pragma once
#include <string_view>

namespace ballast::http {

// The standard reason phrase of a status code ("Not Found"), or "Unknown".
std::string_view reason_phrase(int status);

}  // namespace ballast::http
