#include "core/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace ballast::core {

bool write_file_atomically(const std::string& path, std::string_view data, mode_t mode,
                           std::string* error) {
  std::error_code ec;
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  if (ec) {
    *error = "\"" + path + "\": cannot make its directory (" + ec.message() + ")";
    return false;
  }
  std::string temporary = path + ".new";
  int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) {
    *error = "\"" + temporary + "\": cannot write it (" + strerror(errno) + ")";
    return false;
  }
  size_t written = 0;
  while (written < data.size()) {
    ssize_t n = ::write(fd, data.data() + written, data.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      *error = "\"" + temporary + "\": cannot write it (" + strerror(errno) + ")";
      ::close(fd);
      ::unlink(temporary.c_str());
      return false;
    }
    written += static_cast<size_t>(n);
  }
  bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!synced || ::rename(temporary.c_str(), path.c_str()) != 0) {
    *error = "\"" + path + "\": cannot replace it (" + strerror(errno) + ")";
    ::unlink(temporary.c_str());
    return false;
  }
  return true;
}

}  // namespace ballast::core
