#pragma once
#include <cstddef>
#include <string_view>
#include <vector>

namespace ballast::admin {

// A file of the dashboard (web/ and the chart library from npm), compiled in.
struct WebAsset {
  const char* path;  // "/", "/dashboard.js"...
  const char* content_type;
  const unsigned char* data;
  size_t size;
};

const std::vector<WebAsset>& web_assets();

// The asset served at `path`, or null.
inline const WebAsset* find_web_asset(std::string_view path) {
  for (const auto& a : web_assets()) {
    if (path == a.path) return &a;
  }
  return nullptr;
}

}  // namespace ballast::admin
