#include "config/errors.h"

#include <algorithm>

namespace ballast::config {

std::string ConfigError::to_string() const {
  std::string out = file + ": ";
  if (location.line > 0) {
    out = file + ":" + std::to_string(location.line) + ":" + std::to_string(location.column) + ": ";
  }
  if (!path.empty()) out += path + ": ";
  return out + message;
}

void ErrorList::add(Location where, std::string path, std::string message) {
  errors_.push_back(ConfigError{file_, where, std::move(path), std::move(message)});
}

void ErrorList::sort_by_position() {
  std::stable_sort(errors_.begin(), errors_.end(), [](const ConfigError& a, const ConfigError& b) {
    return a.location.line != b.location.line ? a.location.line < b.location.line
                                              : a.location.column < b.location.column;
  });
}

namespace {
size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}
}  // namespace

std::string closest_match(std::string_view word, const std::vector<std::string_view>& candidates) {
  std::string_view best;
  size_t best_distance = SIZE_MAX;
  for (auto c : candidates) {
    size_t d = edit_distance(word, c);
    if (d < best_distance) {
      best_distance = d;
      best = c;
    }
  }
  // Accept up to a third of the word's length in edits (at least 1, at most 3).
  size_t allowed = std::clamp<size_t>(word.size() / 3, 1, 3);
  if (best_distance <= allowed) return std::string(best);
  return {};
}

}  // namespace ballast::config
