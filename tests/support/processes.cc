#include "support/processes.h"

#include <filesystem>
#include <fstream>
#include <sstream>

namespace ballast::test {

std::optional<ProcessInfo> process_info(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return std::nullopt;
  // "PID (COMMAND) STATE PPID PGRP ...": the command may hold spaces and parentheses.
  size_t close = line.rfind(')');
  if (close == std::string::npos || close + 2 >= line.size()) return std::nullopt;
  std::istringstream fields(line.substr(close + 2));
  ProcessInfo p;
  p.pid = pid;
  fields >> p.state >> p.parent >> p.group;
  return p;
}

std::vector<ProcessInfo> all_processes() {
  std::vector<ProcessInfo> out;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    if (auto p = process_info(static_cast<pid_t>(std::stol(name)))) out.push_back(*p);
  }
  return out;
}

}  // namespace ballast::test
