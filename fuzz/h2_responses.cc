// Feeds arbitrary bytes, as a target's side of an HTTP/2 connection, to ballast's client
// session (nghttp2 with ballast's limits) after it sent three requests, in pieces of varying
// size. Checks what the proxy relies on: every stream's events come in order (heads before
// data, nothing after its close, one close per stream), only for streams ballast opened,
// and the session's output never grows without bound while it keeps accepting input.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>

#include "core/buffer.h"
#include "h2/client_session.h"

namespace {

class Events final : public ballast::h2::ResponseEvents {
 public:
  enum class State { kOpen, kFinal, kEnded, kClosed };
  void opened(int32_t id) { streams_[id] = State::kOpen; }
  void on_response_head(int32_t id, ballast::h2::ResponseHead& head, bool end_stream) override {
    State& s = known(id);
    if (s != State::kOpen) abort();  // a head after the final one, or after the end
    if (head.too_large && !head.fields.empty()) abort();
    if (head.status >= 200 || head.too_large) s = State::kFinal;
    if (end_stream) s = State::kEnded;
  }
  void on_response_data(int32_t id, const char*, size_t n) override {
    if (known(id) != State::kFinal) abort();
    (*session)->consumed(id, n);
  }
  void on_response_end(int32_t id) override {
    State& s = known(id);
    if (s == State::kEnded || s == State::kClosed) abort();
    s = State::kEnded;
  }
  void on_stream_close(int32_t id, uint32_t) override {
    State& s = known(id);
    if (s == State::kClosed) abort();
    s = State::kClosed;
  }
  size_t read_request_body(int32_t id, char* buf, size_t len, bool* end) override {
    if (known(id) == State::kClosed) abort();
    size_t n = len < 3 ? len : 3;
    for (size_t i = 0; i < n; ++i) buf[i] = 'b';
    *end = true;
    return n;
  }
  ballast::h2::ClientSession** session = nullptr;

 private:
  State& known(int32_t id) {
    auto it = streams_.find(id);
    if (it == streams_.end()) abort();  // a stream ballast never opened
    return it->second;
  }
  std::map<int32_t, State> streams_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Events events;
  ballast::h2::Limits limits;
  limits.max_header_list_size = 4096;
  ballast::h2::ClientSession s(limits, events);
  ballast::h2::ClientSession* session = &s;
  events.session = &session;
  const ballast::h2::Fields get = {
      {":method", "GET"}, {":scheme", "http"}, {":authority", "t"}, {":path", "/"}};
  ballast::h2::Fields post = get;
  post[0].second = "POST";
  events.opened(s.submit_request(get, false));
  events.opened(s.submit_request(post, true));
  events.opened(s.submit_request(get, false));
  ballast::core::BufferPool pool;
  ballast::core::Buffer out(&pool);
  if (!s.send(out, 1 << 20)) abort();
  out.consume(out.size());
  // The first byte chooses the piece size, so the same frames arrive split in many ways.
  size_t piece = size > 0 ? 1 + data[0] % 64 : 1;
  for (size_t at = size > 0 ? 1 : 0; at < size; at += piece) {
    size_t n = size - at < piece ? size - at : piece;
    bool ok = s.receive(reinterpret_cast<const char*>(data) + at, n);
    if (!s.send(out, 1 << 20)) break;
    if (out.size() > (8u << 20)) abort();  // output must not pile up
    out.consume(out.size());
    if (!ok) break;
  }
  return 0;
}
