#pragma once
#include <openssl/ssl.h>

#include <array>
#include <cstddef>
#include <deque>
#include <string>

#include "core/thread_annotations.h"

namespace ballast::tls {

// The keys that encrypt TLS session tickets (RFC 5077; TLS 1.3 resumption), one set for
// the whole process: every worker and every certificate context encrypts with the newest
// and decrypts with any kept one, so a client resumes whichever worker it lands on, across
// reloads too.
//
// A ticket is only as secret as its key, and a key that never changes would undo forward
// secrecy for every session it ever sealed (the reason Mozilla's guide turns tickets off
// for servers that cannot rotate). So the control thread calls rotate() on a timer: the
// newest key encrypts, the older ones still decrypt (and the client gets a fresh ticket),
// and the oldest is forgotten.
class TicketKeys {
 public:
  static constexpr size_t kKept = 3;
  // Ticket lifetime advertised to clients: shorter than the time a key is kept
  // (kKept rotations), so a ticket never outlives the key that can open it.
  static constexpr long kTicketLifetimeSeconds = 2 * 3600;
  static constexpr long kRotationSeconds = 3600;

  TicketKeys();  // starts with one fresh key
  // A new encryption key; keys beyond kKept are dropped.
  void rotate();
  // Uses these keys for `ctx`'s tickets. The keys must outlive the context.
  void install(SSL_CTX* ctx);
  size_t size() const;
  // The keys as bytes (newest first), to hand to the process that takes over in a binary
  // upgrade, and taking them from it: tickets sealed before the upgrade resume after it.
  std::string export_keys() const;
  // False (nothing changes) when `bytes` are not keys export_keys() wrote.
  bool import_keys(const std::string& bytes);

 private:
  struct Key {
    std::array<unsigned char, 16> name;
    std::array<unsigned char, 32> aes;
    std::array<unsigned char, 32> hmac;
  };
  static Key fresh_key();
  static int callback(SSL* ssl, unsigned char* key_name, unsigned char* iv, EVP_CIPHER_CTX* cipher,
                      EVP_MAC_CTX* mac, int encrypt);
  // Fills `key` with the newest key (encrypt) or the one named `name`; for a decryption,
  // `*newest` says whether the key found is the newest (otherwise the ticket is renewed).
  bool newest_key(Key* key) const;
  bool key_named(const unsigned char* name, Key* key, bool* newest) const;

  // Handshakes on every worker read the keys; the control thread rotates them. A handshake
  // holds the lock for a copy of 80 bytes.
  mutable core::Mutex mu_;
  std::deque<Key> keys_ GUARDED_BY(mu_);  // newest first
};

}  // namespace ballast::tls
