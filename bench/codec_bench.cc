// Micro-benchmarks of the per-request CPU work in user space: finding and parsing a
// request head, and writing the head forwarded to a target. Run with `make bench-micro`.
#include <benchmark/benchmark.h>

#include <string>

#include "core/buffer.h"
#include "http/head_scanner.h"
#include "http/message_parser.h"
#include "proxy/forwarding.h"

namespace {

using namespace ballast;

// What a browser sends: a dozen headers, about 500 bytes.
const std::string kRequest =
    "GET /api/v1/items?page=2&sort=name HTTP/1.1\r\n"
    "Host: shop.example.com\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)\r\n"
    "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
    "Accept-Language: en-GB,en;q=0.5\r\n"
    "Accept-Encoding: gzip, deflate, br\r\n"
    "Connection: keep-alive\r\n"
    "Cookie: session=3f2a9c81d7e64b0fa1c2; theme=dark\r\n"
    "Upgrade-Insecure-Requests: 1\r\n"
    "Sec-Fetch-Dest: document\r\n"
    "Sec-Fetch-Mode: navigate\r\n"
    "Cache-Control: max-age=0\r\n"
    "\r\n";

struct HeadCopySink : http::MessageSink {
  http::MessageHead* last = nullptr;
  int on_head(http::MessageHead& head) override {
    last = &head;
    return 0;
  }
  void on_body(const char*, size_t) override {}
  void on_message_complete() override {}
};

void BM_ScanAndParseRequestHead(benchmark::State& state) {
  http::HeadLimits limits;
  http::HeadScanner scanner(limits);
  HeadCopySink sink;
  http::MessageParser parser(http::MessageParser::Kind::kRequest, limits, &sink);
  for (auto _ : state) {
    scanner.reset();
    if (scanner.scan(kRequest) != http::ScanStatus::kComplete) state.SkipWithError("scan");
    auto r = parser.execute(kRequest.data(), scanner.head_length());
    if (r.status != http::MessageParser::Status::kMessageComplete) state.SkipWithError("parse");
    parser.next_message();
    benchmark::DoNotOptimize(sink.last);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kRequest.size()));
}
BENCHMARK(BM_ScanAndParseRequestHead);

void BM_WriteUpstreamRequestHead(benchmark::State& state) {
  http::HeadLimits limits;
  HeadCopySink sink;
  http::MessageParser parser(http::MessageParser::Kind::kRequest, limits, &sink);
  parser.execute(kRequest.data(), kRequest.size());
  core::BufferPool pool;
  core::Buffer out(&pool);
  proxy::ClientFacts facts;
  facts.client_ip = "192.0.2.10";
  facts.proto = "http";
  facts.request_id = "6f1c2a4e-8b3d-4c5e-9f70-1a2b3c4d5e6f";
  for (auto _ : state) {
    proxy::write_upstream_request_head(*sink.last, facts, out);
    benchmark::DoNotOptimize(out.data());
    out.consume(out.size());
  }
}
BENCHMARK(BM_WriteUpstreamRequestHead);

}  // namespace

BENCHMARK_MAIN();
