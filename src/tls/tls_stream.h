#pragma once
#include <cstddef>
#include <string>
#include <string_view>

#include "core/io_result.h"
#include "tls/client_context.h"
#include "tls/openssl_util.h"
#include "tls/server_context.h"

namespace ballast::tls {

// One TLS connection over a non-blocking socket: the handshake happens inside the first
// reads, then bytes go through read() and write() as they would through recv() and send().
//
// With edge-triggered epoll the caller must know what a call waits on: a read can wait
// for the socket to be writable (a handshake flight, a key update) and a write for it to
// be readable, so each call says which.
class Stream {
 public:
  // A server-side connection of `context` on socket `fd`. The connection keeps the
  // context alive: its OpenSSL callbacks point into it, and a reload that swaps the
  // listener's context must not free it under a handshake in progress.
  Stream(std::shared_ptr<const ServerContext> context, int fd);
  // A client-side connection of `context` to a target on socket `fd`.
  Stream(std::shared_ptr<const ClientContext> context, int fd, const std::string& server_name);
  // kClosed: close_notify, or EOF (the HTTP framing tells whether anything was cut);
  // kFailed: a handshake or protocol failure, failure() says what.
  core::IoResult read(void* buf, size_t len);
  core::IoResult write(const void* buf, size_t len);
  // Sends close_notify, best effort (never waits).
  void shutdown();

  bool handshake_done() const { return SSL_is_init_finished(ssl_.get()) == 1; }
  // How the handshake ended, told once (for counting): kInProgress until then, and after.
  enum class Handshake { kInProgress, kCompleted, kFailed };
  Handshake take_handshake_outcome();
  bool resumed() const { return SSL_session_reused(ssl_.get()) == 1; }
  // The protocol ALPN chose ("h2", "http/1.1"), or empty.
  std::string_view alpn() const {
    const unsigned char* p = nullptr;
    unsigned int n = 0;
    SSL_get0_alpn_selected(ssl_.get(), &p, &n);
    return {reinterpret_cast<const char*>(p), n};
  }
  // Why the peer's certificate was refused (a client connection), or empty.
  std::string verify_error() const;
  // The verified client certificate's subject (mutual TLS), or empty.
  std::string peer_subject() const;
  const std::string& failure() const { return failure_; }
  // failure(), then why the peer's certificate was refused when it was: the whole reason a
  // connection failed ("certificate verify failed: hostname mismatch").
  std::string failure_reason() const;

 private:
  core::IoResult outcome(int ret);
  std::shared_ptr<const void> context_;  // kept alive: the connection's callbacks use it
  SslPtr ssl_;
  bool handshake_told_ = false;
  std::string failure_;
};

}  // namespace ballast::tls
