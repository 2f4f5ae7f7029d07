// Feeds arbitrary bytes to the response side of the codec the way a Session reads a
// target: the head scanner with the response limits, the parser with the head in one piece
// and the body in pieces whose size the input chooses, interim (1xx) responses before the
// final one, and the end of the connection completing a body that runs until close.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "http/head_scanner.h"
#include "http/message_parser.h"

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
  using namespace ballast::http;
  if (size == 0) return 0;
  const size_t piece = 1 + data[0] % 64;         // body piece size, chosen by the input
  const bool request_was_head = data[0] & 0x80;  // the request was HEAD: no body follows
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  HeadLimits limits;
  limits.max_start_line = 512;
  limits.max_header_bytes = 2048;
  limits.max_headers = 20;
  HeadScanner scanner(limits);
  NullSink sink;
  MessageParser parser(MessageParser::Kind::kResponse, limits, &sink);
  parser.set_request_was_head(request_was_head);
  size_t pos = 0;
  for (int messages = 0; pos < in.size() && messages < 64; ++messages) {
    if (scanner.scan(in.substr(pos)) != ScanStatus::kComplete) return 0;
    auto r = parser.execute(in.data() + pos, scanner.head_length());
    while (r.status == MessageParser::Status::kOk && pos + r.consumed < in.size() &&
           parser.in_body()) {
      pos += r.consumed;
      r = parser.execute(in.data() + pos, std::min(piece, in.size() - pos));
    }
    if (r.status == MessageParser::Status::kOk && pos + r.consumed >= in.size()) {
      r = parser.finish();  // the target closed the connection
    }
    if (r.status == MessageParser::Status::kError) {
      // A target's bad response is always the target's fault: a 502 with a reason.
      if (parser.error_status() != 502 && parser.error_status() != 0) __builtin_trap();
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
