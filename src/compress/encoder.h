#pragma once
#include <memory>
#include <string>
#include <string_view>

#include "compress/content_coding.h"

namespace ballast::compress {

// Compresses one response body as it streams. Each write() flushes what it was given, so a
// body that trickles (a long poll, a slow generator) reaches the client as it comes, at a
// small cost in ratio; windows are kept small (128 to 256 KiB) because every response being
// compressed holds one.
class Encoder {
 public:
  virtual ~Encoder() = default;
  // Appends the compressed form of `in` to `out`. False on a codec failure.
  virtual bool write(std::string_view in, std::string& out) = 0;
  // Appends the end of the stream to `out`.
  virtual bool finish(std::string& out) = 0;
};

std::unique_ptr<Encoder> make_encoder(Coding coding);

}  // namespace ballast::compress
