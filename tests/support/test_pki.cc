#include "support/test_pki.h"

#include <stdexcept>

#include "support/process.h"
#include "support/test_env.h"

namespace ballast::test {

namespace {
std::string key_args(TestPki::KeyType type) {
  return type == TestPki::KeyType::kRsa2048 ? "-newkey rsa:2048"
                                            : "-newkey ec -pkeyopt ec_paramgen_curve:P-256";
}
}  // namespace

int run_shell(const std::string& command, const std::string& log_path, int timeout_ms) {
  Process p({"/bin/sh", "-c", command}, log_path);
  return p.wait_exit(timeout_ms);
}

TestPki::TestPki(std::string dir, std::string name) : dir_(std::move(dir)) {
  ca_cert_ = dir_ + "/ca.pem";
  ca_key_ = dir_ + "/ca.key";
  std::string cmd = "openssl req -x509 " + key_args(KeyType::kEcP256) + " -nodes -keyout " +
                    ca_key_ + " -out " + ca_cert_ + " -days 3650 -subj '/CN=" + name + "'";
  if (run_shell(cmd, dir_ + "/ca.log") != 0) throw std::runtime_error("openssl: cannot make a CA");
}

TestPki::Issued TestPki::issue(const std::string& common_name,
                               const std::vector<std::string>& dns_names, const Options& o) {
  const std::string base = dir_ + "/leaf" + std::to_string(issued_);
  const std::string ext = base + ".ext";
  std::string text;
  std::string names;
  for (const auto& n : dns_names) names += (names.empty() ? "DNS:" : ",DNS:") + n;
  for (const auto& ip : o.ip_addresses) names += (names.empty() ? "IP:" : ",IP:") + ip;
  if (!names.empty()) text += "subjectAltName=" + names + "\n";
  text += o.server_and_client ? "extendedKeyUsage=serverAuth,clientAuth\n"
          : o.client          ? "extendedKeyUsage=clientAuth\n"
                              : "extendedKeyUsage=serverAuth\n";
  if (!o.ocsp_url.empty()) text += "authorityInfoAccess=OCSP;URI:" + o.ocsp_url + "\n";
  write_file(ext, text);
  Issued out{base + ".pem", base + ".key"};
  std::string cmd =
      "openssl req " + key_args(o.key_type) + " -nodes -keyout " + out.key + " -out " + base +
      ".csr -subj '/O=ballast tests" + (common_name.empty() ? "" : "/CN=" + common_name) +
      "' && openssl x509 -req -in " + base + ".csr -CA " + ca_cert_ + " -CAkey " + ca_key_ +
      " -set_serial 0x$(openssl rand -hex 16) -days " + std::to_string(o.days) + " -extfile " +
      ext + " -out " + base + ".leaf && cat " + base + ".leaf " + ca_cert_ + " > " + out.cert;
  ++issued_;
  if (run_shell(cmd, base + ".log") != 0) {
    throw std::runtime_error("openssl: cannot issue a certificate for " + common_name);
  }
  return out;
}

std::string TestPki::ocsp_response_for(const Issued& issued) {
  const std::string leaf = issued.cert.substr(0, issued.cert.size() - 4) + ".leaf";
  const std::string index = dir_ + "/ocsp-index.txt";
  const std::string out = issued.cert + ".ocsp.der";
  // The responder's database: one line per certificate, "V" for valid.
  std::string cmd =
      "printf 'V\\t%s\\t\\t%s\\tunknown\\t%s\\n' \"$(openssl x509 -in " + leaf +
      " -noout -enddate | sed 's/notAfter=//' | xargs -I{} date -u -d {} +%y%m%d%H%M%SZ)\" "
      "\"$(openssl x509 -in " +
      leaf +
      " -noout -serial | sed 's/serial=//')\" "
      "\"$(openssl x509 -in " +
      leaf + " -noout -subject -nameopt compat | sed 's/subject=//')\" > " + index +
      " && openssl ocsp -issuer " + ca_cert_ + " -cert " + leaf + " -reqout " + out +
      ".req && openssl ocsp -index " + index + " -rsigner " + ca_cert_ + " -rkey " + ca_key_ +
      " -CA " + ca_cert_ + " -reqin " + out + ".req -respout " + out + " -ndays 7";
  if (run_shell(cmd, out + ".log") != 0) throw std::runtime_error("openssl: no OCSP response");
  return out;
}

}  // namespace ballast::test
