#include <cstdio>

#include "app/commands.h"
#include "config/config_loader.h"

namespace ballast::app {

int check_command(const std::string& config_path, bool quiet) {
  config::LoadResult result = config::load_config_file(config_path);
  if (!result.config) {
    for (const auto& e : result.errors.errors()) fprintf(stderr, "%s\n", e.to_string().c_str());
    fprintf(stderr, "%s: %zu error(s); configuration not valid\n", config_path.c_str(),
            result.errors.errors().size());
    return 1;
  }
  if (!quiet) {
    const config::Config& c = *result.config;
    printf("%s: configuration is valid (%zu listener(s), %zu target group(s), %u worker(s))\n",
           config_path.c_str(), c.listeners.size(), c.target_groups.size(), c.effective_workers());
  }
  return 0;
}

}  // namespace ballast::app
