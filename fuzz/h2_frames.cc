// Feeds arbitrary bytes, after the client preface, to an HTTP/2 server session (nghttp2 with
// ballast's limits and defences), in pieces of varying size, answering every request it
// reports with a small body. Checks what the proxy relies on: a request head is reported at
// most once per stream, data only for streams whose head came, and the session's output
// never grows without bound while it keeps accepting input.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>

#include "core/buffer.h"
#include "h2/server_session.h"

namespace {

class Events final : public ballast::h2::StreamEvents {
 public:
  explicit Events(ballast::h2::ServerSession** session) : session_(session) {}
  void on_request_head(int32_t id, ballast::h2::RequestHead& head, bool) override {
    if (!heads_.insert(id).second) abort();
    if (head.too_large && !head.fields.empty()) abort();
    (*session_)->submit_response(id, 200, {{"content-type", "text/plain"}}, true);
  }
  void on_request_data(int32_t id, const char*, size_t n) override {
    if (heads_.count(id) == 0) abort();
    (*session_)->consumed(id, n);
  }
  void on_request_end(int32_t) override {}
  void on_stream_close(int32_t, uint32_t) override {}
  size_t read_response_body(int32_t, char* buf, size_t len, bool* end) override {
    size_t n = len < 2 ? len : 2;
    for (size_t i = 0; i < n; ++i) buf[i] = 'o';
    *end = true;
    return n;
  }

 private:
  ballast::h2::ServerSession** session_;
  std::set<int32_t> heads_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ballast::h2::ServerSession* session = nullptr;
  Events events(&session);
  ballast::h2::Limits limits;
  limits.max_glitches = 50;
  limits.max_header_list_size = 4096;
  ballast::h2::ServerSession s(limits, events);
  session = &s;
  static const std::string kPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
  if (!s.receive(kPreface.data(), kPreface.size())) abort();
  ballast::core::BufferPool pool;
  ballast::core::Buffer out(&pool);
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
