// Feeds arbitrary bytes to the request side of the codec the way a Session does: the
// head scanner finds a complete head within the limits, the parser gets the head in one
// piece and the body in pieces whose size the input chooses, message after message.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "http/head_scanner.h"
#include "http/message_parser.h"

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
  using namespace ballast::http;
  if (size == 0) return 0;
  const size_t piece = 1 + data[0] % 64;  // body piece size, chosen by the input
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  HeadLimits limits;
  limits.max_start_line = 512;
  limits.max_header_bytes = 2048;
  limits.max_headers = 20;
  HeadScanner scanner(limits);
  NullSink sink;
  MessageParser parser(MessageParser::Kind::kRequest, limits, &sink);
  size_t pos = 0;
  for (int messages = 0; pos < in.size() && messages < 64; ++messages) {
    if (scanner.scan(in.substr(pos)) != ScanStatus::kComplete) return 0;
    auto r = parser.execute(in.data() + pos, scanner.head_length());
    while (r.status == MessageParser::Status::kOk && pos + r.consumed < in.size() &&
           parser.in_body()) {
      pos += r.consumed;
      r = parser.execute(in.data() + pos, std::min(piece, in.size() - pos));
    }
    if (r.status == MessageParser::Status::kError) {
      // Every rejection carries a status a client can be told and a reason.
      if (parser.error_status() < 400 || parser.error_status() > 599) __builtin_trap();
      if (parser.error_reason().empty()) __builtin_trap();
      return 0;
    }
    pos += r.consumed;
    if (r.status != MessageParser::Status::kMessageComplete) return 0;
    parser.next_message();
    scanner.reset();
  }
  return 0;
}
