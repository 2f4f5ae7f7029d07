#include "config/yaml_reader.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <set>

#include "config/units.h"

namespace ballast::config {

Location location_of(const YAML::Node& node) {
  YAML::Mark mark = node.Mark();
  if (mark.line < 0) return Location{};
  return Location{mark.line + 1, mark.column + 1};
}

MapReader::MapReader(const YAML::Node& node, std::string path, ErrorList& errors)
    : node_(node), path_(std::move(path)), errors_(errors) {
  location_ = location_of(node);
  is_map_ = node.IsMap();
  if (!node.IsDefined() || node.IsNull()) {
    is_map_ = false;
    errors_.add(location_, path_, "expected a mapping of keys to values, found nothing");
  } else if (!is_map_) {
    errors_.add(location_, path_, "expected a mapping of keys to values");
  }
}

std::string MapReader::child_path(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

YAML::Node MapReader::find(std::string_view key) const {
  if (!is_map_) return YAML::Node(YAML::NodeType::Undefined);
  for (auto it = node_.begin(); it != node_.end(); ++it) {
    if (it->first.IsScalar() && it->first.Scalar() == key) return it->second;
  }
  return YAML::Node(YAML::NodeType::Undefined);
}

bool MapReader::has(std::string_view key) const {
  return find(key).IsDefined();
}

Location MapReader::key_location(std::string_view key) const {
  if (is_map_) {
    for (auto it = node_.begin(); it != node_.end(); ++it) {
      if (it->first.IsScalar() && it->first.Scalar() == key) return location_of(it->first);
    }
  }
  return location_;
}

YAML::Node MapReader::node(std::string_view key) {
  known_.push_back(key);
  return find(key);
}

std::optional<std::string> MapReader::scalar(std::string_view key, const char* expected) {
  YAML::Node n = node(key);
  if (!n.IsDefined()) return std::nullopt;
  if (!n.IsScalar()) {
    errors_.add(location_of(n), child_path(key), std::string("expected ") + expected);
    return std::nullopt;
  }
  return n.Scalar();
}

std::optional<std::string> MapReader::string(std::string_view key, bool required) {
  auto value = scalar(key, "a string");
  if (!value && required && is_map_ && !has(key)) {
    errors_.add(location_, child_path(key), "required key \"" + std::string(key) + "\" is missing");
  }
  if (value && value->empty() && required) {
    errors_.add(location_of(find(key)), child_path(key), "must not be empty");
    return std::nullopt;
  }
  return value;
}

namespace {
std::string format_duration(int64_t ms) {
  struct Unit {
    int64_t ms;
    const char* suffix;
  };
  for (Unit u : {Unit{86400000, "d"}, Unit{3600000, "h"}, Unit{60000, "m"}, Unit{1000, "s"}}) {
    if (ms != 0 && ms % u.ms == 0) return std::to_string(ms / u.ms) + u.suffix;
  }
  return std::to_string(ms) + "ms";
}

std::string format_size(uint64_t bytes) {
  if (bytes != 0 && bytes % (1024 * 1024) == 0) return std::to_string(bytes >> 20) + "MiB";
  if (bytes != 0 && bytes % 1024 == 0) return std::to_string(bytes >> 10) + "KiB";
  return std::to_string(bytes) + " bytes";
}
}  // namespace

std::optional<int64_t> MapReader::duration_ms(std::string_view key, int64_t min_ms,
                                              int64_t max_ms) {
  auto text = scalar(key, "a duration such as 500ms, 30s or 5m");
  if (!text) return std::nullopt;
  auto value = parse_duration_ms(*text);
  if (!value) {
    errors_.add(location_of(find(key)), child_path(key),
                "invalid duration \"" + *text +
                    "\": expected a number with a unit (ms, s, m, h, d), such as 500ms or 30s");
  } else if (*value < min_ms || *value > max_ms) {
    errors_.add(location_of(find(key)), child_path(key),
                "duration " + *text + " is out of range: expected " + format_duration(min_ms) +
                    " to " + format_duration(max_ms));
    return std::nullopt;
  }
  return value;
}

std::optional<uint64_t> MapReader::size(std::string_view key, uint64_t min, uint64_t max) {
  auto text = scalar(key, "a size such as 8KiB or 1MiB");
  if (!text) return std::nullopt;
  auto value = parse_size(*text);
  if (!value) {
    errors_.add(location_of(find(key)), child_path(key),
                "invalid size \"" + *text +
                    "\": expected bytes or a number with a unit (KiB, MiB, GiB, kB, MB, GB), such "
                    "as 32KiB");
  } else if (*value < min || *value > max) {
    errors_.add(location_of(find(key)), child_path(key),
                "size " + *text + " is out of range: expected " + format_size(min) + " to " +
                    format_size(max));
    return std::nullopt;
  }
  return value;
}

std::optional<bool> MapReader::boolean(std::string_view key) {
  auto text = scalar(key, "true or false");
  if (!text) return std::nullopt;
  if (*text == "true") return true;
  if (*text == "false") return false;
  errors_.add(location_of(find(key)), child_path(key),
              "invalid value \"" + *text + "\": expected true or false");
  return std::nullopt;
}

std::optional<double> MapReader::number(std::string_view key) {
  auto text = scalar(key, "a number");
  if (!text) return std::nullopt;
  char* end = nullptr;
  double value = strtod(text->c_str(), &end);
  if (text->empty() || *end != '\0' || !std::isfinite(value)) {
    errors_.add(location_of(find(key)), child_path(key),
                "invalid value \"" + *text + "\": expected a number");
    return std::nullopt;
  }
  return value;
}

std::optional<uint64_t> MapReader::integer(std::string_view key, uint64_t min, uint64_t max) {
  auto text = scalar(key, "a whole number");
  if (!text) return std::nullopt;
  uint64_t value = 0;
  auto [ptr, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc() || ptr != text->data() + text->size() || value < min || value > max) {
    errors_.add(location_of(find(key)), child_path(key),
                "invalid value \"" + *text + "\": expected a whole number from " +
                    std::to_string(min) + " to " + std::to_string(max));
    return std::nullopt;
  }
  return value;
}

void MapReader::finish() {
  if (!is_map_) return;
  std::set<std::string> seen;
  for (auto it = node_.begin(); it != node_.end(); ++it) {
    if (!it->first.IsScalar()) {
      errors_.add(location_of(it->first), path_, "keys must be plain strings");
      continue;
    }
    const std::string& key = it->first.Scalar();
    if (!seen.insert(key).second) {
      errors_.add(location_of(it->first), child_path(key), "duplicate key \"" + key + "\"");
      continue;
    }
    bool known = false;
    for (auto k : known_) known = known || k == key;
    if (known) continue;
    std::string message = "unknown key \"" + key + "\"";
    std::string hint = closest_match(key, known_);
    if (!hint.empty()) message += "; did you mean \"" + hint + "\"?";
    errors_.add(location_of(it->first), child_path(key), message);
  }
}

std::optional<core::SocketAddress> read_address(MapReader& reader, std::string_view key,
                                                bool required, std::string* text, Location* where,
                                                ErrorList& errors) {
  auto value = reader.string(key, required);
  if (!value) return std::nullopt;
  *text = *value;
  *where = location_of(reader.node(key));
  std::string error;
  auto address = core::SocketAddress::parse(*value, &error);
  if (!address) {
    errors.add(*where, reader.child_path(key), "invalid address \"" + *value + "\": " + error);
  }
  return address;
}

}  // namespace ballast::config
