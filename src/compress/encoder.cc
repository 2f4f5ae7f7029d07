#include "compress/encoder.h"

#include <brotli/encode.h>
#include <zlib.h>
#include <zstd.h>

namespace ballast::compress {

namespace {
constexpr size_t kStep = 16 * 1024;  // output room per codec call

class GzipEncoder final : public Encoder {
 public:
  GzipEncoder() {
    // Level 5: most of level 9's ratio for a third of its CPU; 15 + 16: a 32 KiB window
    // with the gzip wrapper; memLevel 8: 128 KiB of state.
    ok_ = deflateInit2(&z_, 5, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK;
  }
  ~GzipEncoder() override {
    if (ok_) deflateEnd(&z_);
  }
  bool write(std::string_view in, std::string& out) override { return run(in, Z_SYNC_FLUSH, out); }
  bool finish(std::string& out) override { return run({}, Z_FINISH, out); }

 private:
  bool run(std::string_view in, int flush, std::string& out) {
    if (!ok_) return false;
    z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z_.avail_in = static_cast<uInt>(in.size());
    for (;;) {
      size_t at = out.size();
      out.resize(at + kStep);
      z_.next_out = reinterpret_cast<Bytef*>(out.data() + at);
      z_.avail_out = static_cast<uInt>(kStep);
      int r = deflate(&z_, flush);
      out.resize(at + kStep - z_.avail_out);
      if (r == Z_STREAM_END) return true;
      if (r != Z_OK && r != Z_BUF_ERROR) return false;
      if (z_.avail_out != 0 && z_.avail_in == 0) return flush != Z_FINISH || r == Z_STREAM_END;
    }
  }
  z_stream z_{};
  bool ok_ = false;
};

class BrotliEncoder final : public Encoder {
 public:
  BrotliEncoder() : state_(BrotliEncoderCreateInstance(nullptr, nullptr, nullptr)) {
    if (state_ == nullptr) return;
    // Quality 4 compresses about as fast as gzip -5 and smaller; a 256 KiB window.
    BrotliEncoderSetParameter(state_, BROTLI_PARAM_QUALITY, 4);
    BrotliEncoderSetParameter(state_, BROTLI_PARAM_LGWIN, 18);
  }
  ~BrotliEncoder() override {
    if (state_ != nullptr) BrotliEncoderDestroyInstance(state_);
  }
  bool write(std::string_view in, std::string& out) override {
    return run(in, BROTLI_OPERATION_FLUSH, out);
  }
  bool finish(std::string& out) override { return run({}, BROTLI_OPERATION_FINISH, out); }

 private:
  bool run(std::string_view in, BrotliEncoderOperation op, std::string& out) {
    if (state_ == nullptr) return false;
    size_t avail_in = in.size();
    const auto* next_in = reinterpret_cast<const uint8_t*>(in.data());
    for (;;) {
      size_t at = out.size();
      out.resize(at + kStep);
      size_t avail_out = kStep;
      auto* next_out = reinterpret_cast<uint8_t*>(out.data() + at);
      if (!BrotliEncoderCompressStream(state_, op, &avail_in, &next_in, &avail_out, &next_out,
                                       nullptr))
        return false;
      out.resize(at + kStep - avail_out);
      bool done =
          op == BROTLI_OPERATION_FINISH ? BrotliEncoderIsFinished(state_) != 0 : avail_in == 0;
      if (done && BrotliEncoderHasMoreOutput(state_) == 0) return true;
    }
  }
  BrotliEncoderState* state_;
};

class ZstdEncoder final : public Encoder {
 public:
  ZstdEncoder() : cctx_(ZSTD_createCCtx()) {
    if (cctx_ == nullptr) return;
    ZSTD_CCtx_setParameter(cctx_, ZSTD_c_compressionLevel, 3);
    ZSTD_CCtx_setParameter(cctx_, ZSTD_c_windowLog, 17);  // 128 KiB, within what browsers accept
  }
  ~ZstdEncoder() override {
    if (cctx_ != nullptr) ZSTD_freeCCtx(cctx_);
  }
  bool write(std::string_view in, std::string& out) override { return run(in, ZSTD_e_flush, out); }
  bool finish(std::string& out) override { return run({}, ZSTD_e_end, out); }

 private:
  bool run(std::string_view in, ZSTD_EndDirective mode, std::string& out) {
    if (cctx_ == nullptr) return false;
    ZSTD_inBuffer input{in.data(), in.size(), 0};
    for (;;) {
      size_t at = out.size();
      out.resize(at + kStep);
      ZSTD_outBuffer output{out.data() + at, kStep, 0};
      size_t left = ZSTD_compressStream2(cctx_, &output, &input, mode);
      out.resize(at + output.pos);
      if (ZSTD_isError(left)) return false;
      if (left == 0 && input.pos == input.size) return true;
    }
  }
  ZSTD_CCtx* cctx_;
};
}  // namespace

std::unique_ptr<Encoder> make_encoder(Coding coding) {
  switch (coding) {
    case Coding::kGzip:
      return std::make_unique<GzipEncoder>();
    case Coding::kBrotli:
      return std::make_unique<BrotliEncoder>();
    case Coding::kZstd:
      return std::make_unique<ZstdEncoder>();
  }
  return nullptr;
}

}  // namespace ballast::compress
