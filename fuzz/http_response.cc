// Feeds arbitrary bytes to the response side of the codec the way a Session reads a
// target (see http_codec_driver.h): interim (1xx) responses before the final one, the
// request's HEAD-ness chosen by the input, and the end of the connection completing a body
// that runs until close. A bad response is always the target's fault: a 502 with a reason.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "http_codec_driver.h"

namespace {

struct NullSink : ballast::http::MessageSink {
  uint64_t seen = 0;
  int on_head(ballast::http::MessageHead& head) override {
    seen += static_cast<uint64_t>(head.status) + head.headers.size();
    return head.status == 204 || head.status == 304 ? 1 : 0;
  }
  void on_body(const char*, size_t n) override { seen += n; }
  void on_message_complete() override {}
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ballast;
  if (size == 0) return 0;
  const size_t piece = 1 + data[0] % 64;  // body piece size, chosen by the input
  NullSink sink;
  http::MessageParser parser(http::MessageParser::Kind::kResponse, fuzz::fuzz_limits(), &sink);
  parser.set_request_was_head(data[0] & 0x80);  // the request was HEAD: no body follows
  fuzz::drive_codec(
      parser, std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1), piece,
      [](int status) { return status == 502; }, [&] { return parser.finish(); });
  return 0;
}
