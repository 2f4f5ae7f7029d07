#pragma once
#include <string>

namespace ballast::test {

// A whole body in `coding` ("gzip", "br" or "zstd") decoded with the codec's own library,
// independently of ballast's encoders; "<cut gzip>" (and so on) when it is not a complete
// stream, so a comparison with the expected body fails with a reason.
std::string decode_content(const std::string& coding, const std::string& coded);

}  // namespace ballast::test
