#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "config/config.h"

namespace ballast::proxy {

// An open access-log destination (a file opened for appending, or stdout), shared by
// the workers that write to it. The control thread opens it (and opens it again on
// SIGUSR1, for logrotate); a worker switches to the new one after flushing to the old.
class AccessLogFile {
 public:
  // Opens `path` ("stdout" or a file, created 0644, appended to); null with `error` set
  // when it cannot.
  static std::shared_ptr<AccessLogFile> open(const std::string& path, std::string* error);
  ~AccessLogFile();
  AccessLogFile(const AccessLogFile&) = delete;
  AccessLogFile& operator=(const AccessLogFile&) = delete;

  int fd() const { return fd_; }
  const std::string& path() const { return path_; }

 private:
  AccessLogFile(std::string path, int fd, bool owned)
      : path_(std::move(path)), fd_(fd), owned_(owned) {}
  std::string path_;
  int fd_;
  bool owned_;
};

// What one exchange leaves in the log; views are valid during the append() call only.
struct AccessRecord {
  int64_t unix_ms = 0;  // when the request head arrived
  std::string_view listener;
  std::string_view client;  // "ip:port"
  std::string_view target;  // "ip:port", empty when ballast answered itself
  std::string_view method;
  std::string_view uri;
  std::string_view protocol = "HTTP/1.1";  // as the client spoke: HTTP/1.0, 1.1, 2.0
  int status = 0;                          // sent to the client
  int target_status = 0;                   // from the target, 0 when none
  double request_s = 0;   // head arrived -> request sent to the target (-1: not sent)
  double target_s = 0;    // request sent -> response head (-1: no response)
  double response_s = 0;  // response head -> response sent (or total for ballast's answers)
  uint64_t received_bytes = 0;
  uint64_t sent_bytes = 0;
  std::string_view request_id;
  int rule = -1;  // position of the matched rule in evaluation order, -1: none
  std::string_view target_group;
  std::string_view user_agent;
  int retries = 0;
};

// One worker's access log for one listener: lines are formatted into a buffer on the
// request path (no syscall there) and written in one write(2) when the buffer holds
// 64 KiB or on the worker's 1-second flush, as nginx's `buffer=` and `flush=` do. Each
// write is whole lines, so workers sharing a file (O_APPEND) never interleave inside one.
class AccessLogWriter {
 public:
  AccessLogWriter(std::shared_ptr<AccessLogFile> file, config::AccessLogConfig::Format format)
      : file_(std::move(file)), format_(format) {}
  ~AccessLogWriter() { flush(); }
  AccessLogWriter(const AccessLogWriter&) = delete;
  AccessLogWriter& operator=(const AccessLogWriter&) = delete;

  void append(const AccessRecord& r);
  void flush();
  bool pending() const { return !buffer_.empty(); }
  // After SIGUSR1: what is buffered goes to the old file, the rest to the new one.
  void switch_file(std::shared_ptr<AccessLogFile> file) {
    flush();
    file_ = std::move(file);
  }
  const AccessLogFile& file() const { return *file_; }
  config::AccessLogConfig::Format format() const { return format_; }

  static constexpr size_t kBufferBytes = 64 * 1024;

 private:
  void append_json(const AccessRecord& r);
  void append_common(const AccessRecord& r, bool combined);

  std::shared_ptr<AccessLogFile> file_;
  config::AccessLogConfig::Format format_;
  std::string buffer_;
};

}  // namespace ballast::proxy
