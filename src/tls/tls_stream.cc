#include "tls/tls_stream.h"

#include <openssl/err.h>

#include <cerrno>
#include <cstring>
#include <new>

namespace ballast::tls {

Stream::Stream(std::shared_ptr<const ServerContext> context, int fd)
    : context_(context), ssl_(context->new_connection()) {
  if (!ssl_) throw std::bad_alloc();
  SSL_set_fd(ssl_.get(), fd);
}

Stream::Stream(std::shared_ptr<const ClientContext> context, int fd, const std::string& server_name)
    : context_(context), ssl_(context->new_connection(server_name)) {
  if (!ssl_) throw std::bad_alloc();
  SSL_set_fd(ssl_.get(), fd);
}

std::string Stream::failure_reason() const {
  std::string why = failure_;
  std::string verify = verify_error();
  if (!verify.empty()) why += (why.empty() ? "" : ": ") + verify;
  return why;
}

std::string Stream::verify_error() const {
  long result = SSL_get_verify_result(ssl_.get());
  return result == X509_V_OK ? std::string() : X509_verify_cert_error_string(result);
}

core::IoResult Stream::read(void* buf, size_t len) {
  size_t n = 0;
  int ret = SSL_read_ex(ssl_.get(), buf, len, &n);
  if (ret == 1) return {core::IoState::kOk, n};
  return outcome(ret);
}

core::IoResult Stream::write(const void* buf, size_t len) {
  size_t n = 0;
  int ret = SSL_write_ex(ssl_.get(), buf, len, &n);
  if (ret == 1) return {core::IoState::kOk, n};
  return outcome(ret);
}

core::IoResult Stream::outcome(int ret) {
  int err = SSL_get_error(ssl_.get(), ret);
  switch (err) {
    case SSL_ERROR_WANT_READ:
      return {core::IoState::kWantRead};
    case SSL_ERROR_WANT_WRITE:
      return {core::IoState::kWantWrite};
    case SSL_ERROR_ZERO_RETURN:
      return {core::IoState::kClosed};
    case SSL_ERROR_SYSCALL:
      // The socket failed or closed without close_notify (OpenSSL reports an unexpected
      // EOF as SSL_ERROR_SSL unless told to ignore it, which the context does).
      ERR_clear_error();
      if (!handshake_done()) failure_ = errno != 0 ? strerror(errno) : "closed during handshake";
      return {handshake_done() ? core::IoState::kClosed : core::IoState::kFailed};
    default:
      failure_ = take_openssl_errors("TLS failure");
      return {core::IoState::kFailed};
  }
}

void Stream::shutdown() {
  if (!handshake_done()) return;
  // Quiet: a peer that already went away makes this fail, and nothing is to be done.
  SSL_shutdown(ssl_.get());
  ERR_clear_error();
}

Stream::Handshake Stream::take_handshake_outcome() {
  if (handshake_told_) return Handshake::kInProgress;
  if (handshake_done()) {
    handshake_told_ = true;
    return Handshake::kCompleted;
  }
  if (!failure_.empty()) {
    handshake_told_ = true;
    return Handshake::kFailed;
  }
  return Handshake::kInProgress;
}

std::string Stream::peer_subject() const {
  X509* peer = SSL_get0_peer_certificate(ssl_.get());
  if (peer == nullptr || SSL_get_verify_result(ssl_.get()) != X509_V_OK) return {};
  return subject_text(peer);
}

}  // namespace ballast::tls
