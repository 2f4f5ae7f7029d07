// The client connection's transport: the socket itself, TLS over it, or an HTTP/2 stream.
#include <sys/socket.h>

#include <cerrno>

#include "core/log.h"
#include "core/sockets.h"
#include "proxy/session.h"

namespace ballast::proxy {

core::IoResult Session::receive_from_client(char* buf, size_t len) {
  if (port_ != nullptr) return port_->read_request(buf, len);
  if (tls_) {
    core::IoResult r = tls_->read(buf, len);
    note_tls_progress();
    return r;
  }
  return core::receive_some(fd_, buf, len);
}

core::IoResult Session::send_to_client(const char* buf, size_t len) {
  if (port_ != nullptr) return port_->write_response(buf, len);
  if (tls_) {
    core::IoResult r = tls_->write(buf, len);
    note_tls_progress();
    return r;
  }
  return core::send_some(fd_, buf, len);
}

void Session::note_tls_progress() {
  switch (tls_->take_handshake_outcome()) {
    case tls::Stream::Handshake::kInProgress:
      break;
    case tls::Stream::Handshake::kCompleted:
      stats_->tls_handshakes.add();
      if (tls_->resumed()) stats_->tls_resumed.add();
      if (!listener_->tls.client_ca.empty()) client_subject_ = tls_->peer_subject();
      if (tls_->alpn() == "h2") http2_ = Http2::kAlpnChoseIt;
      break;
    case tls::Stream::Handshake::kFailed:
      // Scanners and clients that distrust the certificate fail handshakes all day: a
      // count, and a debug line with the reason.
      stats_->tls_handshake_failures.add();
      LOG_DEBUG("%s %s: TLS handshake failed: %s", peer_ip_.c_str(), listener_->name.c_str(),
                tls_->failure().c_str());
      break;
  }
}

}  // namespace ballast::proxy
