// Feeds arbitrary bytes to the request side of the codec the way a Session does (see
// http_codec_driver.h): every rejection is a 4xx or 5xx with a reason.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "http_codec_driver.h"

namespace {

struct NullSink : ballast::http::MessageSink {
  uint64_t body_bytes = 0;
  int on_head(ballast::http::MessageHead& head) override {
    // Touch what the proxy reads from a head.
    body_bytes += head.method.size() + head.target.size() + head.headers.size();
    return 0;
  }
  void on_body(const char*, size_t n) override { body_bytes += n; }
  void on_message_complete() override {}
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ballast;
  if (size == 0) return 0;
  const size_t piece = 1 + data[0] % 64;  // body piece size, chosen by the input
  NullSink sink;
  http::MessageParser parser(http::MessageParser::Kind::kRequest, fuzz::fuzz_limits(), &sink);
  fuzz::drive_codec(
      parser, std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1), piece,
      [](int status) { return status >= 400 && status <= 599; },
      [] {
        return http::MessageParser::Result{http::MessageParser::Status::kOk, 0};
      });
  return 0;
}
