#include "cluster/snapshot.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace ballast::cluster {

std::string snapshot_path(const std::string& dir) {
  return (std::filesystem::path(dir) / "config.snapshot").string();
}

bool save_snapshot(const std::string& dir, const Snapshot& s, std::string* error) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    *error = "cannot create " + dir + ": " + ec.message();
    return false;
  }
  nlohmann::json j{{"cluster_id", std::to_string(s.cluster_id)},
                   {"revision", s.revision},
                   {"saved_unix", s.saved_unix},
                   {"config", s.config}};
  std::string text = j.dump(1) + "\n";
  std::string path = snapshot_path(dir);
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    *error = "cannot write " + tmp + ": " + strerror(errno);
    return false;
  }
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      *error = "cannot write " + tmp + ": " + strerror(errno);
      ::close(fd);
      ::unlink(tmp.c_str());
      return false;
    }
    done += static_cast<size_t>(n);
  }
  // Durable before it replaces the old one: a power cut must not leave an empty file.
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    *error = "cannot flush " + tmp + ": " + strerror(errno);
    ::unlink(tmp.c_str());
    return false;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    *error = "cannot rename " + tmp + ": " + strerror(errno);
    ::unlink(tmp.c_str());
    return false;
  }
  return true;
}

std::optional<Snapshot> load_snapshot(const std::string& dir, std::string* error) {
  std::string path = snapshot_path(dir);
  std::ifstream in(path);
  if (!in) {
    if (errno != ENOENT) *error = "cannot read " + path + ": " + strerror(errno);
    return std::nullopt;
  }
  std::stringstream text;
  text << in.rdbuf();
  try {
    auto j = nlohmann::json::parse(text.str());
    Snapshot s;
    s.cluster_id = std::stoull(j.at("cluster_id").get<std::string>());
    s.revision = j.at("revision").get<int64_t>();
    s.saved_unix = j.at("saved_unix").get<int64_t>();
    s.config = j.at("config").get<std::string>();
    return s;
  } catch (const std::exception& e) {
    *error = path + " is damaged (" + e.what() + "); delete it to start without it";
    return std::nullopt;
  }
}

}  // namespace ballast::cluster
