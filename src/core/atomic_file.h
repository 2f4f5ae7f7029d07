#pragma once
#include <sys/types.h>

#include <string>
#include <string_view>

namespace ballast::core {

// Writes `data` to `path` so that a crash leaves the old file or the new one, whole: into
// `path.new`, flushed to disk, then renamed over `path` (its folder is made when missing).
// False with `error` saying which file and why.
bool write_file_atomically(const std::string& path, std::string_view data, mode_t mode,
                           std::string* error);

}  // namespace ballast::core
