#pragma once
#include <string>
#include <vector>

namespace ballast::test {

// A throwaway certificate authority made with the openssl command at test time, and the
// certificates it issues (files in `dir`).
class TestPki {
 public:
  enum class KeyType { kEcP256, kRsa2048 };
  struct Issued {
    std::string cert;  // leaf, then the CA (a served chain)
    std::string key;
  };
  struct Options {
    KeyType key_type = KeyType::kEcP256;
    int days = 365;                  // negative: expired already
    bool client = false;             // a client certificate (extendedKeyUsage clientAuth)
    bool server_and_client = false;  // both (etcd's own gateway dials it with its certificate)
    std::string ocsp_url;            // authorityInfoAccess OCSP URI (empty: none)
    std::vector<std::string> ip_addresses;  // iPAddress subjectAltNames ("127.0.0.1")
  };

  // A new CA named `name` in `dir`.
  TestPki(std::string dir, std::string name = "ballast test CA");
  const std::string& ca_file() const { return ca_cert_; }
  // A certificate for `common_name` (empty: none) with these DNS subjectAltNames, signed by
  // the CA.
  Issued issue(const std::string& common_name, const std::vector<std::string>& dns_names,
               const Options& options);
  Issued issue(const std::string& common_name, const std::vector<std::string>& dns_names) {
    return issue(common_name, dns_names, Options{});
  }
  // A DER OCSP response saying `issued` is good, signed by the CA (for stapling).
  std::string ocsp_response_for(const Issued& issued);

 private:
  std::string dir_;
  std::string ca_cert_;
  std::string ca_key_;
  int issued_ = 1;  // certificates issued so far, for file names
};

// Runs `command` with /bin/sh (bounded by `timeout_ms`); its exit code, or -1 when it did
// not finish. Output goes to `log_path`.
int run_shell(const std::string& command, const std::string& log_path, int timeout_ms = 60000);

}  // namespace ballast::test
