#include "support/content_decoding.h"

#include <brotli/decode.h>
#include <zlib.h>
#include <zstd.h>

namespace ballast::test {

namespace {
constexpr size_t kMaxDecoded = size_t{1} << 22;

std::string gunzip(const std::string& in) {
  std::string out(kMaxDecoded, '\0');
  z_stream z{};
  inflateInit2(&z, 15 + 16);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  int r = inflate(&z, Z_FINISH);
  out.resize(z.total_out);
  inflateEnd(&z);
  return r == Z_STREAM_END ? out : "<cut gzip>";
}

std::string unbrotli(const std::string& in) {
  std::string out(kMaxDecoded, '\0');
  size_t size = out.size();
  if (BrotliDecoderDecompress(in.size(), reinterpret_cast<const uint8_t*>(in.data()), &size,
                              reinterpret_cast<uint8_t*>(out.data())) !=
      BROTLI_DECODER_RESULT_SUCCESS)
    return "<cut br>";
  out.resize(size);
  return out;
}

std::string unzstd(const std::string& in) {
  std::string out(kMaxDecoded, '\0');
  size_t n = ZSTD_decompress(out.data(), out.size(), in.data(), in.size());
  if (ZSTD_isError(n)) return "<cut zstd>";
  out.resize(n);
  return out;
}
}  // namespace

std::string decode_content(const std::string& coding, const std::string& coded) {
  if (coding == "gzip") return gunzip(coded);
  if (coding == "br") return unbrotli(coded);
  if (coding == "zstd") return unzstd(coded);
  return "<unknown coding " + coding + ">";
}

}  // namespace ballast::test
