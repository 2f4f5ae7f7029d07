#include "app/ctl_upgrade.h"

#include <chrono>
#include <cstdio>
#include <thread>

namespace ballast::app {

int ctl_upgrade(const AdminEndpoint& api) {
  std::string error;
  auto reply = admin_request(api.address, api.token, "POST", "/api/v1/upgrade", "", &error);
  if (!reply) {
    fprintf(stderr, "ballast ctl: %s\n", error.c_str());
    return 1;
  }
  nlohmann::json started = nlohmann::json::parse(reply->body, nullptr, false);
  if (reply->status != 202 || !started.is_object()) {
    std::string message = started.is_object() && started.contains("error")
                              ? started["error"].get<std::string>()
                              : reply->body;
    fprintf(stderr, "ballast ctl: upgrade refused: %s\n", message.c_str());
    return 1;
  }
  int old_pid = started.value("old_pid", 0);
  int new_pid = started.value("new_pid", 0);
  printf("upgrade: pid %d started pid %d\n", old_pid, new_pid);
  // Both processes answer on the admin address while they overlap; the new one says so
  // by its pid, the old one by its last_upgrade.
  for (int i = 0; i < 300; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    auto status = admin_get_json(api, "/api/v1/status", &error);
    if (!status) continue;
    if (status->value("pid", 0) == new_pid) {
      printf("upgrade: pid %d serves; pid %d drains and exits\n", new_pid, old_pid);
      return 0;
    }
    const auto& last = (*status)["last_upgrade"];
    if (last.is_object() && last.value("new_pid", 0) == new_pid && !last.value("ok", true)) {
      fprintf(stderr, "ballast ctl: upgrade failed: %s (pid %d keeps serving)\n",
              last.value("message", std::string()).c_str(), old_pid);
      return 1;
    }
  }
  fprintf(stderr, "ballast ctl: pid %d did not answer within 60 s\n", new_pid);
  return 1;
}

}  // namespace ballast::app
