#include "acme/certificate_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "acme/jose.h"
#include "core/atomic_file.h"
#include "core/log.h"

namespace ballast::acme {

namespace {

// Keeps letters, digits, dots and dashes; everything else becomes '_'.
std::string file_safe(const std::string& text) {
  std::string out;
  for (char c : text) {
    bool keep = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-';
    out += keep ? c : '_';
  }
  return out;
}

std::string read_whole(const std::string& path, bool* exists) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  *exists = fd >= 0;
  if (fd < 0) {
    if (errno == ENOENT) return {};
    throw tls::Error("\"" + path + "\": cannot read it (" + strerror(errno) + ")");
  }
  std::string data;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof(buf))) > 0) data.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return data;
}

}  // namespace

StorePaths store_paths(const Settings& settings) {
  std::string ca = settings.directory;
  if (ca.rfind("https://", 0) == 0) ca = ca.substr(8);
  while (!ca.empty() && ca.back() == '/') ca.pop_back();
  std::filesystem::path base = std::filesystem::path(settings.storage) / file_safe(ca);
  std::string name = file_safe(settings.names.empty() ? "none" : settings.names[0]);
  return StorePaths{(base / "account.key").string(), (base / (name + ".pem")).string()};
}

bool covers(const tls::Certificate& cert, const std::vector<std::string>& names) {
  return std::all_of(names.begin(), names.end(), [&](const std::string& n) {
    return std::find(cert.names.begin(), cert.names.end(), n) != cert.names.end();
  });
}

std::shared_ptr<const tls::Certificate> load_stored_certificate(const Settings& settings,
                                                                std::string* problem) {
  std::string path = store_paths(settings).certificate;
  if (::access(path.c_str(), F_OK) != 0) return nullptr;
  try {
    auto cert = tls::load_certificate(tls::CertificateFiles{path, path, ""});
    if (covers(*cert, settings.names)) return cert;
    if (problem != nullptr) *problem = "\"" + path + "\" does not cover every configured name";
  } catch (const tls::Error& e) {
    if (problem != nullptr) *problem = e.what();
  }
  return nullptr;
}

tls::PkeyPtr load_or_create_account_key(const std::string& path) {
  bool exists = false;
  std::string pem = read_whole(path, &exists);
  if (exists) return read_private_key_pem(pem, "ACME account key \"" + path + "\"");
  tls::PkeyPtr key = generate_p256_key();
  write_file_atomically(path, private_key_pem(key.get()), 0600);
  LOG_INFO("ACME: made a new account key in %s", path.c_str());
  return key;
}

void write_file_atomically(const std::string& path, const std::string& data, mode_t mode) {
  std::string error;
  if (!core::write_file_atomically(path, data, mode, &error)) throw tls::Error(error);
}

}  // namespace ballast::acme
