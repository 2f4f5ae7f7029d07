#include "proxy/access_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>

namespace ballast::proxy {

std::shared_ptr<AccessLogFile> AccessLogFile::open(const std::string& path, std::string* error) {
  if (path == "stdout") {
    return std::shared_ptr<AccessLogFile>(new AccessLogFile(path, STDOUT_FILENO, false));
  }
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    *error = "cannot open access log \"" + path + "\": " + strerror(errno);
    return nullptr;
  }
  return std::shared_ptr<AccessLogFile>(new AccessLogFile(path, fd, true));
}

AccessLogFile::~AccessLogFile() {
  if (owned_ && fd_ >= 0) ::close(fd_);
}

namespace {

// JSON string contents: quotes, backslashes and control bytes escaped, so a hostile
// request line or user agent cannot break the line or forge fields.
void append_escaped(std::string& out, std::string_view s) {
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      snprintf(buf, sizeof(buf), "\\u%04x", c);
      out += buf;
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
}

// Common log format: no quotes or control bytes inside the quoted fields.
void append_plain(std::string& out, std::string_view s) {
  for (unsigned char c : s) {
    if (c == '"' || c == '\\' || c < 0x20 || c == 0x7f) {
      char buf[8];
      snprintf(buf, sizeof(buf), "\\x%02x", c);
      out += buf;
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
}

// "null", or the escaped string in quotes.
void append_string_or_null(std::string& out, std::string_view s) {
  if (s.empty()) {
    out += "null";
    return;
  }
  out += "\"";
  append_escaped(out, s);
  out += "\"";
}

tm utc_of(int64_t unix_ms) {
  time_t secs = static_cast<time_t>(unix_ms / 1000);
  tm utc{};
  gmtime_r(&secs, &utc);
  return utc;
}

void append_seconds(std::string& out, double s) {
  char buf[32];
  snprintf(buf, sizeof(buf), "%.6f", s);
  out += buf;
}

}  // namespace

void AccessLogWriter::append_json(const AccessRecord& r) {
  std::string& b = buffer_;
  char time_text[40];
  tm utc = utc_of(r.unix_ms);
  size_t n = strftime(time_text, sizeof(time_text), "%Y-%m-%dT%H:%M:%S", &utc);
  snprintf(time_text + n, sizeof(time_text) - n, ".%03dZ", static_cast<int>(r.unix_ms % 1000));
  b += "{\"time\":\"";
  b += time_text;
  b += "\",\"listener\":\"";
  append_escaped(b, r.listener);
  b += "\",\"client\":\"";
  append_escaped(b, r.client);
  b += "\",\"target\":";
  append_string_or_null(b, r.target);
  b += ",\"request\":\"";
  append_escaped(b, r.method);
  b += " ";
  append_escaped(b, r.uri);
  b += " ";
  b += r.protocol;
  b += "\"";
  b += ",\"status\":" + std::to_string(r.status);
  b += ",\"target_status\":";
  b += r.target_status > 0 ? std::to_string(r.target_status) : "null";
  b += ",\"request_processing_time\":";
  append_seconds(b, r.request_s);
  b += ",\"target_processing_time\":";
  append_seconds(b, r.target_s);
  b += ",\"response_processing_time\":";
  append_seconds(b, r.response_s);
  b += ",\"received_bytes\":" + std::to_string(r.received_bytes);
  b += ",\"sent_bytes\":" + std::to_string(r.sent_bytes);
  b += ",\"request_id\":\"";
  append_escaped(b, r.request_id);
  b += "\",\"rule\":";
  b += r.rule >= 0 ? std::to_string(r.rule) : "null";
  b += ",\"target_group\":";
  append_string_or_null(b, r.target_group);
  b += ",\"user_agent\":\"";
  append_escaped(b, r.user_agent);
  b += "\",\"retries\":" + std::to_string(r.retries) + "}\n";
}

void AccessLogWriter::append_common(const AccessRecord& r, bool combined) {
  std::string& b = buffer_;
  std::string_view ip = r.client.substr(0, r.client.rfind(':'));
  if (ip.size() > 2 && ip.front() == '[') ip = ip.substr(1, ip.size() - 2);
  char time_text[40];
  tm utc = utc_of(r.unix_ms);
  strftime(time_text, sizeof(time_text), "[%d/%b/%Y:%H:%M:%S +0000]", &utc);
  b.append(ip);
  b += " - - ";
  b += time_text;
  b += " \"";
  append_plain(b, r.method);
  b += " ";
  append_plain(b, r.uri);
  b += " ";
  b += r.protocol;
  b += "\" ";
  b += std::to_string(r.status) + " " + std::to_string(r.sent_bytes);
  if (combined) {
    b += " \"-\" \"";
    append_plain(b, r.user_agent);
    b += "\"";
  }
  b += "\n";
}

void AccessLogWriter::append(const AccessRecord& r) {
  switch (format_) {
    case config::AccessLogConfig::Format::kJson:
      append_json(r);
      break;
    case config::AccessLogConfig::Format::kCommon:
      append_common(r, false);
      break;
    case config::AccessLogConfig::Format::kCombined:
      append_common(r, true);
      break;
  }
  if (buffer_.size() >= kBufferBytes) flush();
}

void AccessLogWriter::flush() {
  size_t done = 0;
  while (done < buffer_.size()) {
    ssize_t n = ::write(file_->fd(), buffer_.data() + done, buffer_.size() - done);
    if (n > 0) {
      done += static_cast<size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      break;  // a full disk loses log lines, never requests
    }
  }
  buffer_.clear();
}

}  // namespace ballast::proxy
