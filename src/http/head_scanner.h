#pragma once
#include <cstddef>
#include <string_view>

namespace ballast::http {

struct HeadLimits {
  size_t max_start_line = 8 * 1024;     // request line (414 beyond it)
  size_t max_header_bytes = 32 * 1024;  // all header lines together (431 beyond it)
  size_t max_headers = 100;             // header count (431 beyond it)
};

enum class ScanStatus {
  kNeedMore,
  kComplete,
  kStartLineTooLong,
  kHeadersTooLarge,
  kBareLineFeed,  // a line ended in LF without CR
  kObsFold,       // a header line starts with SP or HTAB (obsolete line folding)
};

// Finds the end of a message head (the empty line) in bytes that arrive piece by piece,
// enforcing size limits before anything is parsed, so that the parser always sees a
// complete head in one contiguous piece of memory. Resumes where it left off.
class HeadScanner {
 public:
  explicit HeadScanner(const HeadLimits& limits) : limits_(limits) {}

  // `data` holds every byte of the message received so far, starting at its first byte.
  ScanStatus scan(std::string_view data);
  // Valid after kComplete: length of the head including the final empty line.
  size_t head_length() const { return head_length_; }
  void reset();

 private:
  HeadLimits limits_;
  size_t pos_ = 0;             // next byte to examine
  size_t start_line_end_ = 0;  // 0 until the start line has ended
  size_t line_start_ = 0;      // first byte of the current line
  size_t head_length_ = 0;
};

}  // namespace ballast::http
