#pragma once
#include <string>

#include "config/config_loader.h"

namespace ballast::config {

// Every error of a load, one per line, for test messages and searches.
inline std::string errors_of(const LoadResult& r) {
  std::string out;
  for (auto& e : r.errors.errors()) out += e.to_string() + "\n";
  return out;
}

}  // namespace ballast::config
