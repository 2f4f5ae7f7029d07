// A connection that turns to HTTP/2 leaves its Session for an H2Connection.
#include <cstring>

#include "proxy/h2_connection.h"
#include "proxy/session.h"
#include "proxy/worker.h"

namespace ballast::proxy {

namespace {
// RFC 9113 3.4: what an HTTP/2 client sends first.
constexpr std::string_view kPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
}  // namespace

bool Session::wants_http2() {
  if (phase_ != Phase::kReadingHead) return false;
  switch (http2_) {
    case Http2::kNo:
      return false;
    case Http2::kAlpnChoseIt:
      return true;
    case Http2::kPrefaceMayCome: {
      std::string_view got = client_in_.view();
      size_t n = std::min(got.size(), kPreface.size());
      if (got.substr(0, n) != kPreface.substr(0, n)) {
        http2_ = Http2::kNo;  // an HTTP/1 request: decided for the connection's life
        return false;
      }
      return n == kPreface.size();
    }
  }
  return false;
}

void Session::hand_over_to_http2() {
  worker_.loop().remove(fd_);
  client_timer_.cancel();
  H2Connection::Handover h{snapshot_,
                           listener_,
                           stats_,
                           access_log_,
                           fd_,
                           std::move(tls_),
                           peer_,
                           client_subject_,
                           std::move(admission_),
                           std::string(client_in_.view())};
  fd_ = -1;
  phase_ = Phase::kClosed;
  // The connection is still open: the H2Connection counts it from here on.
  worker_.adopt_http2(std::move(h));
  worker_.session_closed(this);
}

}  // namespace ballast::proxy
