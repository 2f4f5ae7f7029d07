#pragma once
#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "acme/settings.h"
#include "tls/certificate.h"
#include "tls/openssl_util.h"

namespace ballast::acme {

// Where ACME state lives on disk, under the configured storage directory:
//   <storage>/<ca>/account.key          the account's key: one account per CA
//   <storage>/<ca>/<name>.pem           a listener's certificate: the chain the CA issued,
//                                       then its private key, in one file (mode 0600), so
//                                       that replacing it is one rename and a reader never
//                                       sees a new certificate with the old key
// <ca> is the directory URL's host, port and path made safe for a file name, so a staging
// and a production CA never mix; <name> is the listener's first name.
struct StorePaths {
  std::string account_key;
  std::string certificate;
};
StorePaths store_paths(const Settings& settings);

// True when `cert` names every one of `names` (exactly: ACME certificates hold no wildcards).
bool covers(const tls::Certificate& cert, const std::vector<std::string>& names);

// The certificate stored for `settings`, when its file exists, loads, and covers every name;
// null otherwise. `problem` (when given) says why a file that exists cannot serve; it stays
// empty when there is no file yet.
std::shared_ptr<const tls::Certificate> load_stored_certificate(const Settings& settings,
                                                                std::string* problem = nullptr);

// The account key at `path`, made (and saved, mode 0600) when there is none. Throws
// tls::Error when the file exists but holds no key, or cannot be written.
tls::PkeyPtr load_or_create_account_key(const std::string& path);

// Replaces `path` with `data` whole (a temporary file renamed over it), so a reader never
// sees half a certificate; makes the directories on the way. Throws tls::Error.
void write_file_atomically(const std::string& path, const std::string& data, mode_t mode);

}  // namespace ballast::acme
