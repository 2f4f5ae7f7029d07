#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace ballast::tls {

// Which certificate answers a TLS client's server name (SNI).
//
// Exact names win over wildcards, and a wildcard covers one label only, as browsers and
// RFC 6125 6.4.3 have it: "*.example.com" answers "api.example.com", not "example.com"
// nor "a.b.example.com". A name no certificate covers (or no name at all) gets the
// default certificate. When two certificates claim a name, the first one listed keeps it.
class SniTable {
 public:
  // `names` are the DNS names of certificate `index` (its subjectAltName entries).
  void add(size_t index, const std::vector<std::string>& names);
  void set_default(size_t index) { default_ = index; }
  // The certificate for `server_name` (any case; a trailing dot is ignored).
  size_t pick(std::string_view server_name) const;
  // True when some certificate covers `server_name` (the default does not count).
  bool covers(std::string_view server_name) const;

 private:
  bool find(std::string_view server_name, size_t* index) const;
  std::unordered_map<std::string, size_t> exact_;
  std::unordered_map<std::string, size_t> wildcard_;  // by the part after "*."
  size_t default_ = 0;
};

}  // namespace ballast::tls
