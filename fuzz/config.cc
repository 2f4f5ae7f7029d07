// Arbitrary text as a configuration file: the loader must either produce a configuration
// or errors that each say where and what, and never crash.
#include <cstddef>
#include <cstdint>
#include <string>

#include "config/config_loader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto result = ballast::config::load_config_string(text, "fuzz.yaml");
  if (result.config.has_value() == !result.errors.empty()) __builtin_trap();
  for (const auto& e : result.errors.errors()) {
    if (e.message.empty()) __builtin_trap();
  }
  return 0;
}
