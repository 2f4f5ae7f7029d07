#pragma once
#include <openssl/ssl.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ballast::test {

struct Response {
  int status = 0;
  std::string version;                              // "HTTP/1.1"
  std::multimap<std::string, std::string> headers;  // names lower-cased
  std::string body;
  uint64_t body_length = 0;  // counted even when the body is discarded
  std::string header(const std::string& name) const;
};

// TLS as a client sets it up (OpenSSL, blocking).
struct TlsOptions {
  std::string server_name;  // sent as SNI and verified against the certificate (empty: neither)
  std::string ca_file;      // the server must chain to this CA (empty: no verification)
  std::vector<std::string> alpn;
  std::shared_ptr<SSL_SESSION> session;  // to resume
  std::string cert_file, key_file;       // a client certificate
  int max_version = 0;                   // TLS1_2_VERSION to stay below 1.3; 0: any
  bool ask_ocsp = false;                 // request a stapled OCSP response
};

// What a handshake gave.
struct TlsInfo {
  bool ok = false;
  std::string error;        // why it failed (OpenSSL's reason, or the verification's)
  std::string version;      // "TLSv1.3"
  std::string alpn;         // chosen protocol, or empty
  std::string peer_cn;      // the server certificate's common name
  std::string peer_serial;  // ...and its serial number, in hex
  bool resumed = false;
  size_t ocsp_bytes = 0;  // stapled OCSP response size
};

// A deliberately simple blocking HTTP/1.1 client, written independently of ballast's
// own parser so the tests do not share its bugs. Every call is bounded by a timeout.
class Client {
 public:
  explicit Client(uint16_t port, int timeout_ms = 10000);
  // To another loopback address (127.0.0.N), where nodes of a cluster test listen.
  Client(const std::string& ipv4, uint16_t port, int timeout_ms = 10000);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool connected() const { return fd_ >= 0; }
  // Handshakes on this connection; what follows goes through TLS. False on failure (tls()
  // says why).
  bool start_tls(const TlsOptions& options);
  const TlsInfo& tls() const { return tls_info_; }
  // The session to resume later (TLS 1.3 tickets arrive with the first response).
  std::shared_ptr<SSL_SESSION> tls_session() const;
  bool send_raw(const std::string& bytes);
  // Sends `size` bytes of body data without holding them all in memory.
  bool send_zeros(uint64_t size);
  // Reads one response. `keep_body` false counts the body without storing it.
  // `head_request` true: the response has no body whatever its headers say.
  std::optional<Response> read_response(bool keep_body = true, bool head_request = false);
  // Sends "GET path" (Host: x, plus `extra_headers` lines) on this connection and reads
  // the response; nullopt if either fails.
  std::optional<Response> get(const std::string& path, const std::string& extra_headers = "");
  // Reads everything until the peer closes (or the timeout); "closed" tells which.
  std::string read_until_close(bool* closed);
  void shutdown_write();
  // Bytes received on this connection so far.
  uint64_t bytes_received() const { return bytes_received_; }

 private:
  bool fill();  // reads more into buf_
  bool read_line(std::string* line);
  int fd_ = -1;
  SSL_CTX* ssl_ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  TlsInfo tls_info_;
  std::string buf_;
  uint64_t bytes_received_ = 0;
};

// GET path on 127.0.0.1:port on a new connection.
std::optional<Response> http_get(uint16_t port, const std::string& path,
                                 const std::string& extra_headers = "");

// Which instances (X-Ballast-Instance) answer `n` GET / on one keep-alive connection;
// non-200 answers count as "status N". Stops early when the connection ends.
std::map<std::string, int> instances_seen(uint16_t port, int n,
                                          const std::string& extra_headers = "");

}  // namespace ballast::test
