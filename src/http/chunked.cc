#include "http/chunked.h"

#include "http/headers.h"

namespace ballast::http {

void ChunkedDecoder::step(char c) {
  switch (state_) {
    case State::kSize:
      if (int v = hex_value(c); v >= 0 && digits_ < 15) {
        remaining_ = remaining_ * 16 + static_cast<uint64_t>(v);
        ++digits_;
      } else {
        state_ = c == '\r' && digits_ > 0 ? State::kSizeLf : State::kError;
      }
      return;
    case State::kSizeLf:
      if (c != '\n') break;
      digits_ = 0;
      state_ = remaining_ > 0 ? State::kData : State::kLastCr;
      return;
    case State::kDataCr:
      state_ = c == '\r' ? State::kDataLf : State::kError;
      return;
    case State::kDataLf:
      state_ = c == '\n' ? State::kSize : State::kError;
      return;
    case State::kLastCr:
      state_ = c == '\r' ? State::kLastLf : State::kError;
      return;
    case State::kLastLf:
      state_ = c == '\n' ? State::kDone : State::kError;
      return;
    case State::kData:
    case State::kDone:
    case State::kError:
      return;
  }
  state_ = State::kError;
}

}  // namespace ballast::http
