#include "http/head_scanner.h"

#include <cstring>

namespace ballast::http {

void HeadScanner::reset() {
  pos_ = start_line_end_ = line_start_ = head_length_ = 0;
}

ScanStatus HeadScanner::scan(std::string_view data) {
  while (true) {
    // A header line that begins with whitespace continues the previous one (obs-fold),
    // which RFC 9112 lets a server reject; proxies that accept it invite smuggling.
    if (start_line_end_ != 0 && line_start_ < data.size() && line_start_ == pos_ &&
        (data[line_start_] == ' ' || data[line_start_] == '\t')) {
      return ScanStatus::kObsFold;
    }
    const void* found =
        pos_ < data.size() ? memchr(data.data() + pos_, '\n', data.size() - pos_) : nullptr;
    if (found == nullptr) {
      pos_ = data.size();
      if (start_line_end_ == 0 && data.size() > limits_.max_start_line)
        return ScanStatus::kStartLineTooLong;
      if (start_line_end_ != 0 && data.size() - start_line_end_ > limits_.max_header_bytes)
        return ScanStatus::kHeadersTooLarge;
      return ScanStatus::kNeedMore;
    }
    size_t lf = static_cast<size_t>(static_cast<const char*>(found) - data.data());
    if (lf == 0 || data[lf - 1] != '\r') return ScanStatus::kBareLineFeed;
    size_t line_length = lf + 1 - line_start_;
    pos_ = lf + 1;
    if (start_line_end_ == 0) {
      if (lf + 1 > limits_.max_start_line + 2) return ScanStatus::kStartLineTooLong;
      if (line_length == 2) {
        // Leading empty line before the start line (RFC 9112 2.2): skip it.
        line_start_ = pos_;
        continue;
      }
      start_line_end_ = pos_;
      line_start_ = pos_;
      continue;
    }
    if (pos_ - start_line_end_ > limits_.max_header_bytes + 2) return ScanStatus::kHeadersTooLarge;
    if (line_length == 2) {
      head_length_ = pos_;
      return ScanStatus::kComplete;
    }
    line_start_ = pos_;
  }
}

}  // namespace ballast::http
