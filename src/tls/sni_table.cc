#include "tls/sni_table.h"

#include <cctype>

namespace ballast::tls {

namespace {
std::string lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (!out.empty() && out.back() == '.') out.pop_back();
  return out;
}
}  // namespace

void SniTable::add(size_t index, const std::vector<std::string>& names) {
  for (const auto& raw : names) {
    std::string name = lowercase(raw);
    if (name.rfind("*.", 0) == 0) {
      wildcard_.try_emplace(name.substr(2), index);
    } else if (!name.empty()) {
      exact_.try_emplace(name, index);
    }
  }
}

bool SniTable::find(std::string_view server_name, size_t* index) const {
  if (server_name.empty()) return false;
  std::string name = lowercase(server_name);
  if (auto it = exact_.find(name); it != exact_.end()) {
    *index = it->second;
    return true;
  }
  size_t dot = name.find('.');
  if (dot == std::string::npos || dot == 0) return false;
  if (auto it = wildcard_.find(name.substr(dot + 1)); it != wildcard_.end()) {
    *index = it->second;
    return true;
  }
  return false;
}

size_t SniTable::pick(std::string_view server_name) const {
  size_t index = default_;
  find(server_name, &index);
  return index;
}

bool SniTable::covers(std::string_view server_name) const {
  size_t ignored = 0;
  return find(server_name, &ignored);
}

}  // namespace ballast::tls
