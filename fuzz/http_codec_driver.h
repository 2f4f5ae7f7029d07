#pragma once
// How a Session feeds its codec, shared by the request and response fuzz targets: the head
// scanner finds a complete head within small limits, the parser gets the head in one piece
// and the body in pieces whose size the input's first byte chooses, message after message;
// `on_end` runs when the input ends inside a message (a response's end of connection).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "http/head_scanner.h"
#include "http/message_parser.h"

namespace ballast::fuzz {

// The limits the drivers' parsers use (the scanner's are the same).
inline http::HeadLimits fuzz_limits() {
  http::HeadLimits limits;
  limits.max_start_line = 512;
  limits.max_header_bytes = 2048;
  limits.max_headers = 20;
  return limits;
}

// Every rejection must carry a reason, and a status `valid_status` accepts.
template <typename ValidStatus, typename OnEnd>
void drive_codec(http::MessageParser& parser, std::string_view in, size_t piece,
                 ValidStatus valid_status, OnEnd on_end) {
  using http::MessageParser;
  http::HeadScanner scanner(fuzz_limits());
  size_t pos = 0;
  for (int messages = 0; pos < in.size() && messages < 64; ++messages) {
    if (scanner.scan(in.substr(pos)) != http::ScanStatus::kComplete) return;
    auto r = parser.execute(in.data() + pos, scanner.head_length());
    while (r.status == MessageParser::Status::kOk && pos + r.consumed < in.size() &&
           parser.in_body()) {
      pos += r.consumed;
      r = parser.execute(in.data() + pos, std::min(piece, in.size() - pos));
    }
    if (r.status == MessageParser::Status::kOk && pos + r.consumed >= in.size()) r = on_end();
    if (r.status == MessageParser::Status::kError) {
      if (!valid_status(parser.error_status())) __builtin_trap();
      if (parser.error_reason().empty()) __builtin_trap();
      return;
    }
    pos += r.consumed;
    if (r.status != MessageParser::Status::kMessageComplete) return;
    parser.next_message();
    scanner.reset();
  }
}

}  // namespace ballast::fuzz
