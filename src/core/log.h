#pragma once
#include <cstdarg>

namespace ballast::core {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

void set_log_level(LogLevel level);
LogLevel log_level();

// printf-style logging to stderr, one line per call, prefixed with time and level.
// Safe to call from any thread: each line is written with a single write(2).
void log(LogLevel level, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

#define BALLAST_LOG(level, ...)                                                    \
  do {                                                                             \
    if (static_cast<int>(level) >= static_cast<int>(::ballast::core::log_level())) \
      ::ballast::core::log(level, __VA_ARGS__);                                    \
  } while (0)
#define LOG_DEBUG(...) BALLAST_LOG(::ballast::core::LogLevel::kDebug, __VA_ARGS__)
#define LOG_INFO(...) BALLAST_LOG(::ballast::core::LogLevel::kInfo, __VA_ARGS__)
#define LOG_WARN(...) BALLAST_LOG(::ballast::core::LogLevel::kWarn, __VA_ARGS__)
#define LOG_ERROR(...) BALLAST_LOG(::ballast::core::LogLevel::kError, __VA_ARGS__)

}  // namespace ballast::core
