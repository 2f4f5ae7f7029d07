#include "tls/ticket_keys.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstring>
#include <stdexcept>

namespace ballast::tls {

namespace {
// Where a context keeps its TicketKeys (OpenSSL's per-object application data).
int keys_index() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}
}  // namespace

TicketKeys::TicketKeys() {
  rotate();
}

TicketKeys::Key TicketKeys::fresh_key() {
  Key k;
  if (RAND_bytes(k.name.data(), static_cast<int>(k.name.size())) != 1 ||
      RAND_bytes(k.aes.data(), static_cast<int>(k.aes.size())) != 1 ||
      RAND_bytes(k.hmac.data(), static_cast<int>(k.hmac.size())) != 1) {
    throw std::runtime_error("no random bytes for a session ticket key");
  }
  return k;
}

void TicketKeys::rotate() {
  Key k = fresh_key();
  core::MutexLock lock(mu_);
  keys_.push_front(k);
  while (keys_.size() > kKept) keys_.pop_back();
}

size_t TicketKeys::size() const {
  core::MutexLock lock(mu_);
  return keys_.size();
}

std::string TicketKeys::export_keys() const {
  core::MutexLock lock(mu_);
  std::string out;
  for (const Key& k : keys_) {
    out.append(reinterpret_cast<const char*>(k.name.data()), k.name.size());
    out.append(reinterpret_cast<const char*>(k.aes.data()), k.aes.size());
    out.append(reinterpret_cast<const char*>(k.hmac.data()), k.hmac.size());
  }
  return out;
}

bool TicketKeys::import_keys(const std::string& bytes) {
  constexpr size_t kKeySize = sizeof(Key::name) + sizeof(Key::aes) + sizeof(Key::hmac);
  if (bytes.empty() || bytes.size() % kKeySize != 0 || bytes.size() / kKeySize > kKept)
    return false;
  std::deque<Key> keys;
  for (size_t off = 0; off < bytes.size(); off += kKeySize) {
    Key k;
    std::memcpy(k.name.data(), bytes.data() + off, k.name.size());
    std::memcpy(k.aes.data(), bytes.data() + off + k.name.size(), k.aes.size());
    std::memcpy(k.hmac.data(), bytes.data() + off + k.name.size() + k.aes.size(), k.hmac.size());
    keys.push_back(k);
  }
  core::MutexLock lock(mu_);
  keys_ = std::move(keys);
  return true;
}

bool TicketKeys::newest_key(Key* key) const {
  core::MutexLock lock(mu_);
  if (keys_.empty()) return false;
  *key = keys_.front();
  return true;
}

bool TicketKeys::key_named(const unsigned char* name, Key* key, bool* newest) const {
  core::MutexLock lock(mu_);
  for (size_t i = 0; i < keys_.size(); ++i) {
    if (std::memcmp(keys_[i].name.data(), name, keys_[i].name.size()) == 0) {
      *key = keys_[i];
      *newest = i == 0;
      return true;
    }
  }
  return false;
}

void TicketKeys::install(SSL_CTX* ctx) {
  SSL_CTX_set_ex_data(ctx, keys_index(), this);
  SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, &TicketKeys::callback);
  SSL_CTX_set_timeout(ctx, kTicketLifetimeSeconds);
}

// OpenSSL's contract: 1 = key set; 2 = key set, and issue a new ticket; 0 = no such key
// (full handshake); -1 = error.
int TicketKeys::callback(SSL* ssl, unsigned char* key_name, unsigned char* iv,
                         EVP_CIPHER_CTX* cipher, EVP_MAC_CTX* mac, int encrypt) {
  auto* self = static_cast<TicketKeys*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), keys_index()));
  if (self == nullptr) return -1;
  Key key;
  int answer = 1;
  if (encrypt) {
    if (!self->newest_key(&key)) return -1;
    if (RAND_bytes(iv, EVP_MAX_IV_LENGTH) != 1) return -1;
    std::memcpy(key_name, key.name.data(), key.name.size());
    if (EVP_EncryptInit_ex(cipher, EVP_aes_256_cbc(), nullptr, key.aes.data(), iv) != 1) return -1;
  } else {
    bool newest = false;
    if (!self->key_named(key_name, &key, &newest)) return 0;
    if (EVP_DecryptInit_ex(cipher, EVP_aes_256_cbc(), nullptr, key.aes.data(), iv) != 1) return -1;
    answer = newest ? 1 : 2;
  }
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, key.hmac.data(), key.hmac.size()),
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_end()};
  if (EVP_MAC_CTX_set_params(mac, params) != 1) return -1;
  return answer;
}

}  // namespace ballast::tls
