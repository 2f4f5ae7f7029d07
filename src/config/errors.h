#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"

namespace ballast::config {

// One problem in a configuration file, with everything needed to find and fix it.
struct ConfigError {
  std::string file;
  Location location;
  std::string path;     // "target_groups[1].targets[0].address"
  std::string message;  // "invalid port \"80a\": expected a number from 0 to 65535"

  // "file:line:column: path: message"
  std::string to_string() const;
};

class ErrorList {
 public:
  explicit ErrorList(std::string file) : file_(std::move(file)) {}
  void add(Location where, std::string path, std::string message);
  // An error as it is, from another list (of another file).
  void add_from(ConfigError error) { errors_.push_back(std::move(error)); }
  // Orders errors as they appear in the file (reading and cross-checking find them in
  // different orders).
  void sort_by_position();
  bool empty() const { return errors_.empty(); }
  const std::vector<ConfigError>& errors() const { return errors_; }
  const std::string& file() const { return file_; }

 private:
  std::string file_;
  std::vector<ConfigError> errors_;
};

// The candidate closest to `word` by edit distance, when close enough to be a likely
// typo ("tagets" -> "targets"); empty otherwise.
std::string closest_match(std::string_view word, const std::vector<std::string_view>& candidates);

}  // namespace ballast::config
