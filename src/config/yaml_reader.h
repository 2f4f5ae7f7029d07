#pragma once
#include <yaml-cpp/yaml.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/errors.h"
#include "core/socket_address.h"

namespace ballast::config {

Location location_of(const YAML::Node& node);

// Reads one YAML mapping against a known set of keys. Every accessor records its key as
// known; finish() then reports each key nobody asked for, with a "did you mean" hint, and
// duplicated keys. Type errors are reported with the key's path and position.
class MapReader {
 public:
  MapReader(const YAML::Node& node, std::string path, ErrorList& errors);

  bool is_map() const { return is_map_; }
  const std::string& path() const { return path_; }
  Location location() const { return location_; }
  std::string child_path(std::string_view key) const;
  Location key_location(std::string_view key) const;
  bool has(std::string_view key) const;

  // The raw node (undefined when absent); records the key as known.
  YAML::Node node(std::string_view key);
  std::optional<std::string> string(std::string_view key, bool required = false);
  // Durations and sizes out of [min, max] are errors that state the range.
  std::optional<int64_t> duration_ms(std::string_view key, int64_t min_ms = 1,
                                     int64_t max_ms = int64_t{7} * 24 * 3600 * 1000);
  std::optional<uint64_t> size(std::string_view key, uint64_t min, uint64_t max);
  std::optional<uint64_t> integer(std::string_view key, uint64_t min, uint64_t max);
  std::optional<bool> boolean(std::string_view key);
  // Any finite number: "0.5", "-3", "1e3".
  std::optional<double> number(std::string_view key);

  void finish();

 private:
  YAML::Node find(std::string_view key) const;
  std::optional<std::string> scalar(std::string_view key, const char* expected);

  YAML::Node node_;
  std::string path_;
  ErrorList& errors_;
  bool is_map_ = false;
  Location location_;
  std::vector<std::string_view> known_;
};

// An "IP:PORT" (or "[IPv6]:PORT") at `key`: its text in `text`, its position in `where`;
// nothing, with an error, when it is not one.
std::optional<core::SocketAddress> read_address(MapReader& reader, std::string_view key,
                                                bool required, std::string* text, Location* where,
                                                ErrorList& errors);

// "path[i]".
inline std::string indexed(const std::string& path, size_t i) {
  return path + "[" + std::to_string(i) + "]";
}

// Calls `fn(item, path)` for each element of the sequence at `key` (absent or null: none;
// anything but a list: an error).
template <typename Fn>
void for_each_item(MapReader& reader, std::string_view key, ErrorList& errors, Fn fn) {
  YAML::Node list = reader.node(key);
  if (!list.IsDefined() || list.IsNull()) return;
  if (!list.IsSequence()) {
    errors.add(location_of(list), reader.child_path(key), "expected a list");
    return;
  }
  for (size_t i = 0; i < list.size(); ++i) fn(list[i], indexed(reader.child_path(key), i));
}

}  // namespace ballast::config
