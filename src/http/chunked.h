#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace ballast::http {

// The last chunk of a chunked body, with no trailers (RFC 9112 7.1).
inline constexpr std::string_view kLastChunk = "0\r\n\r\n";

// One chunk: its size in hex, CRLF, the data, CRLF. `Out` is anything with
// append(const char*, size_t): std::string, core::Buffer.
template <class Out>
void append_chunk(Out& out, const char* data, size_t n) {
  char line[20];  // 16 hex digits and CRLF
  size_t at = sizeof(line);
  line[--at] = '\n';
  line[--at] = '\r';
  size_t rest = n;
  do {
    line[--at] = "0123456789abcdef"[rest & 0xf];
    rest >>= 4;
  } while (rest != 0);
  out.append(line + at, sizeof(line) - at);
  out.append(data, n);
  out.append("\r\n", 2);
}

// Takes a chunked body apart as it arrives in pieces: the data out, the framing dropped.
// For bodies ballast framed itself (no chunk extensions, no trailers), but strict all the
// same: anything else is an error rather than a guess.
class ChunkedDecoder {
 public:
  enum class Status { kMore, kDone, kError };
  // Consumes all of `in` (up to the end of the body), calling `sink(data, n)` for data.
  template <class Sink>
  Status feed(std::string_view in, Sink&& sink) {
    for (size_t i = 0; i < in.size() && state_ != State::kDone && state_ != State::kError;) {
      if (state_ == State::kData) {
        size_t n = static_cast<size_t>(std::min<uint64_t>(remaining_, in.size() - i));
        sink(in.data() + i, n);
        i += n;
        remaining_ -= n;
        if (remaining_ == 0) state_ = State::kDataCr;
        continue;
      }
      step(in[i++]);
    }
    if (state_ == State::kError) return Status::kError;
    return state_ == State::kDone ? Status::kDone : Status::kMore;
  }

 private:
  enum class State { kSize, kSizeLf, kData, kDataCr, kDataLf, kLastCr, kLastLf, kDone, kError };
  void step(char c);
  State state_ = State::kSize;
  uint64_t remaining_ = 0;
  int digits_ = 0;
};

}  // namespace ballast::http
