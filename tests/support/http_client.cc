#include "support/http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>

namespace ballast::test {

std::string Response::header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? std::string() : it->second;
}

Client::Client(uint16_t port, int timeout_ms) : Client("127.0.0.1", port, timeout_ms) {}

Client::Client(const std::string& ipv4, uint16_t port, int timeout_ms) {
  fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  inet_pton(AF_INET, ipv4.c_str(), &addr.sin_addr);
  timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if (connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd_);
    fd_ = -1;
  }
}

Client::~Client() {
  if (ssl_ != nullptr) {
    // close_notify: OpenSSL marks the session of a connection freed without one as not
    // resumable.
    if (tls_info_.ok) SSL_shutdown(ssl_);
    ERR_clear_error();
    SSL_free(ssl_);
  }
  if (ssl_ctx_ != nullptr) SSL_CTX_free(ssl_ctx_);
  if (fd_ >= 0) close(fd_);
}

namespace {
std::string openssl_errors() {
  std::string text;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof(buf));
    if (!text.empty()) text += "; ";
    text += buf;
  }
  return text;
}
}  // namespace

bool Client::start_tls(const TlsOptions& o) {
  // OpenSSL writes with write(), not send(MSG_NOSIGNAL): a peer that closed first would
  // kill the test program with SIGPIPE.
  signal(SIGPIPE, SIG_IGN);
  tls_info_ = TlsInfo{};
  if (fd_ < 0) {
    tls_info_.error = "not connected";
    return false;
  }
  ERR_clear_error();
  ssl_ctx_ = SSL_CTX_new(TLS_client_method());
  if (o.max_version != 0) SSL_CTX_set_max_proto_version(ssl_ctx_, o.max_version);
  if (!o.ca_file.empty()) {
    SSL_CTX_load_verify_locations(ssl_ctx_, o.ca_file.c_str(), nullptr);
    SSL_CTX_set_verify(ssl_ctx_, SSL_VERIFY_PEER, nullptr);
  }
  if (!o.cert_file.empty() &&
      (SSL_CTX_use_certificate_chain_file(ssl_ctx_, o.cert_file.c_str()) != 1 ||
       SSL_CTX_use_PrivateKey_file(ssl_ctx_, o.key_file.c_str(), SSL_FILETYPE_PEM) != 1)) {
    tls_info_.error = "client certificate: " + openssl_errors();
    return false;
  }
  ssl_ = SSL_new(ssl_ctx_);
  SSL_set_fd(ssl_, fd_);
  if (!o.server_name.empty()) {
    // SSL_set_tlsext_host_name, without the macro's C cast.
    SSL_ctrl(ssl_, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
             const_cast<char*>(o.server_name.c_str()));
    if (!o.ca_file.empty()) SSL_set1_host(ssl_, o.server_name.c_str());
  }
  if (!o.alpn.empty()) {
    std::string wire;
    for (const auto& p : o.alpn) wire += static_cast<char>(p.size()) + p;
    SSL_set_alpn_protos(ssl_, reinterpret_cast<const unsigned char*>(wire.data()),
                        static_cast<unsigned>(wire.size()));
  }
  if (o.session) SSL_set_session(ssl_, o.session.get());
  if (o.ask_ocsp) SSL_set_tlsext_status_type(ssl_, TLSEXT_STATUSTYPE_ocsp);
  if (SSL_connect(ssl_) != 1) {
    long verify = SSL_get_verify_result(ssl_);
    tls_info_.error =
        verify != X509_V_OK ? X509_verify_cert_error_string(verify) : openssl_errors();
    if (tls_info_.error.empty()) tls_info_.error = "handshake failed";
    return false;
  }
  tls_info_.ok = true;
  tls_info_.version = SSL_get_version(ssl_);
  const unsigned char* alpn = nullptr;
  unsigned alpn_len = 0;
  SSL_get0_alpn_selected(ssl_, &alpn, &alpn_len);
  if (alpn != nullptr) tls_info_.alpn.assign(reinterpret_cast<const char*>(alpn), alpn_len);
  if (X509* peer = SSL_get0_peer_certificate(ssl_)) {
    char cn[256] = "";
    X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, cn, sizeof(cn));
    tls_info_.peer_cn = cn;
    BIGNUM* serial = ASN1_INTEGER_to_BN(X509_get0_serialNumber(peer), nullptr);
    if (serial != nullptr) {
      char* hex = BN_bn2hex(serial);
      if (hex != nullptr) tls_info_.peer_serial = hex;
      OPENSSL_free(hex);
      BN_free(serial);
    }
  }
  tls_info_.resumed = SSL_session_reused(ssl_) == 1;
  const unsigned char* ocsp = nullptr;
  long ocsp_len = SSL_ctrl(ssl_, SSL_CTRL_GET_TLSEXT_STATUS_REQ_OCSP_RESP, 0, &ocsp);
  tls_info_.ocsp_bytes = ocsp_len > 0 ? static_cast<size_t>(ocsp_len) : 0;
  return true;
}

std::shared_ptr<SSL_SESSION> Client::tls_session() const {
  if (ssl_ == nullptr) return nullptr;
  SSL_SESSION* s = SSL_get1_session(ssl_);
  if (s == nullptr) return nullptr;
  return std::shared_ptr<SSL_SESSION>(s, SSL_SESSION_free);
}

bool Client::send_raw(const std::string& bytes) {
  size_t off = 0;
  while (off < bytes.size()) {
    if (ssl_ != nullptr) {
      int n = SSL_write(ssl_, bytes.data() + off, static_cast<int>(bytes.size() - off));
      if (n <= 0) return false;
      off += static_cast<size_t>(n);
      continue;
    }
    ssize_t n = send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

bool Client::send_zeros(uint64_t size) {
  static const std::string block(1 << 16, '\0');
  while (size > 0) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(size, block.size()));
    if (!send_raw(block.substr(0, n))) return false;
    size -= n;
  }
  return true;
}

void Client::shutdown_write() {
  shutdown(fd_, SHUT_WR);
}

bool Client::fill() {
  char tmp[65536];
  ssize_t n = ssl_ != nullptr ? SSL_read(ssl_, tmp, sizeof(tmp)) : recv(fd_, tmp, sizeof(tmp), 0);
  if (n <= 0) return false;
  buf_.append(tmp, static_cast<size_t>(n));
  bytes_received_ += static_cast<uint64_t>(n);
  return true;
}

bool Client::read_line(std::string* line) {
  while (true) {
    size_t pos = buf_.find("\r\n");
    if (pos != std::string::npos) {
      *line = buf_.substr(0, pos);
      buf_.erase(0, pos + 2);
      return true;
    }
    if (buf_.size() > (1 << 20) || !fill()) return false;
  }
}

std::optional<Response> Client::read_response(bool keep_body, bool head_request) {
  if (fd_ < 0) return std::nullopt;
  Response r;
  std::string line;
  while (true) {
    if (!read_line(&line)) return std::nullopt;
    if (line.size() < 12 || line.compare(0, 5, "HTTP/") != 0) return std::nullopt;
    r.version = line.substr(0, 8);
    r.status = std::stoi(line.substr(9, 3));
    r.headers.clear();
    while (true) {
      if (!read_line(&line)) return std::nullopt;
      if (line.empty()) break;
      size_t colon = line.find(':');
      if (colon == std::string::npos) return std::nullopt;
      std::string name = line.substr(0, colon);
      std::transform(name.begin(), name.end(), name.begin(), ::tolower);
      size_t v = line.find_first_not_of(" \t", colon + 1);
      r.headers.emplace(name, v == std::string::npos ? "" : line.substr(v));
    }
    if (r.status >= 200) break;  // skip interim responses
  }
  auto take = [&](uint64_t n) -> bool {
    while (n > 0) {
      if (buf_.empty() && !fill()) return false;
      size_t k = static_cast<size_t>(std::min<uint64_t>(n, buf_.size()));
      if (keep_body) r.body.append(buf_, 0, k);
      buf_.erase(0, k);
      r.body_length += k;
      n -= k;
    }
    return true;
  };
  if (head_request || r.status == 204 || r.status == 304) return r;
  if (r.header("transfer-encoding") == "chunked") {
    while (true) {
      if (!read_line(&line)) return std::nullopt;
      uint64_t size = std::stoull(line, nullptr, 16);
      if (size == 0) {
        if (!read_line(&line)) return std::nullopt;  // no trailers expected
        return r;
      }
      if (!take(size) || !read_line(&line)) return std::nullopt;
    }
  }
  std::string cl = r.header("content-length");
  if (!cl.empty()) {
    if (!take(std::stoull(cl))) return std::nullopt;
    return r;
  }
  // Until close.
  while (true) {
    if (!buf_.empty()) {
      if (keep_body) r.body += buf_;
      r.body_length += buf_.size();
      buf_.clear();
    }
    if (!fill()) break;
  }
  return r;
}

std::string Client::read_until_close(bool* closed) {
  *closed = false;
  std::string out = buf_;
  buf_.clear();
  char tmp[65536];
  while (true) {
    ssize_t n = recv(fd_, tmp, sizeof(tmp), 0);
    if (n == 0 || (n < 0 && errno == ECONNRESET)) {
      *closed = true;
      break;
    }
    if (n < 0) break;  // timeout
    out.append(tmp, static_cast<size_t>(n));
  }
  return out;
}

std::optional<Response> Client::get(const std::string& path, const std::string& extra_headers) {
  if (!send_raw("GET " + path + " HTTP/1.1\r\nHost: x\r\n" + extra_headers + "\r\n")) {
    return std::nullopt;
  }
  return read_response();
}

std::optional<Response> http_get(uint16_t port, const std::string& path,
                                 const std::string& extra_headers) {
  Client c(port);
  if (!c.connected()) return std::nullopt;
  return c.get(path, extra_headers);
}

std::map<std::string, int> instances_seen(uint16_t port, int n, const std::string& extra_headers) {
  std::map<std::string, int> seen;
  Client c(port);
  for (int i = 0; i < n; ++i) {
    auto r = c.get("/", extra_headers);
    if (!r) break;
    seen[r->status == 200 ? r->header("x-ballast-instance")
                          : "status " + std::to_string(r->status)]++;
  }
  return seen;
}

}  // namespace ballast::test
