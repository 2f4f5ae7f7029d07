#include "http/message_parser.h"

#include <gtest/gtest.h>

#include <cctype>
#include <string>
#include <vector>

namespace ballast::http {
namespace {

using namespace std::string_literals;

// Records what the parser reports, copying the head out of the input buffer.
struct Recorder : MessageSink {
  struct Seen {
    std::string method, target, host;
    int status = 0;
    bool chunked = false, keep_alive = true;
    uint64_t content_length = 0;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    bool complete = false;
  };
  std::vector<Seen> messages;
  int on_head(MessageHead& h) override {
    Seen s;
    s.method = h.method;
    s.target = h.target;
    s.host = h.host;
    s.status = h.status;
    s.chunked = h.chunked;
    s.keep_alive = h.keep_alive;
    s.content_length = h.content_length;
    for (auto& x : h.headers) s.headers.emplace_back(x.name, x.value);
    messages.push_back(std::move(s));
    return 0;
  }
  void on_body(const char* d, size_t n) override { messages.back().body.append(d, n); }
  void on_message_complete() override { messages.back().complete = true; }
};

// Parses a whole input as a connection would: head in one piece, body after it.
struct ParseRun {
  Recorder rec;
  MessageParser parser;
  explicit ParseRun(MessageParser::Kind kind = MessageParser::Kind::kRequest,
                    HeadLimits limits = {})
      : parser(kind, limits, &rec) {}
  // Returns the parser status of the last step; stops at errors.
  MessageParser::Status feed(const std::string& input, size_t body_piece = 1 << 20) {
    size_t pos = 0;
    MessageParser::Status last = MessageParser::Status::kOk;
    while (pos < input.size()) {
      size_t n = input.size() - pos;
      if (!parser.in_body()) {
        size_t end = input.find("\r\n\r\n", pos);
        n = end == std::string::npos ? n : end + 4 - pos;
      } else {
        n = std::min(n, body_piece);
      }
      auto r = parser.execute(input.data() + pos, n);
      last = r.status;
      if (r.status == MessageParser::Status::kError) return last;
      pos += r.consumed;
      if (r.status == MessageParser::Status::kMessageComplete) parser.next_message();
    }
    return last;
  }
};

TEST(MessageParserTest, ParsesARequestWithContentLength) {
  ParseRun run;
  EXPECT_EQ(run.feed("POST /a?b=c HTTP/1.1\r\nHost: ex.com\r\nContent-Length: 5\r\n\r\nhello"),
            MessageParser::Status::kMessageComplete);
  ASSERT_EQ(run.rec.messages.size(), 1u);
  auto& m = run.rec.messages[0];
  EXPECT_EQ(m.method, "POST");
  EXPECT_EQ(m.target, "/a?b=c");
  EXPECT_EQ(m.host, "ex.com");
  EXPECT_EQ(m.content_length, 5u);
  EXPECT_EQ(m.body, "hello");
  EXPECT_TRUE(m.complete);
}

TEST(MessageParserTest, DecodesChunkedBodiesInSmallPieces) {
  ParseRun run;
  EXPECT_EQ(run.feed("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                     "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nTrailer: x\r\n\r\n",
                     3),
            MessageParser::Status::kMessageComplete);
  ASSERT_EQ(run.rec.messages.size(), 1u);
  EXPECT_TRUE(run.rec.messages[0].chunked);
  EXPECT_EQ(run.rec.messages[0].body, "hello world");
}

TEST(MessageParserTest, StopsAfterEachPipelinedMessage) {
  ParseRun run;
  std::string two = "GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n";
  auto r = run.parser.execute(two.data(), two.size());
  EXPECT_EQ(r.status, MessageParser::Status::kMessageComplete);
  EXPECT_EQ(r.consumed, two.size() / 2);
  ASSERT_EQ(run.rec.messages.size(), 1u);
  run.parser.next_message();
  r = run.parser.execute(two.data() + r.consumed, two.size() - r.consumed);
  EXPECT_EQ(r.status, MessageParser::Status::kMessageComplete);
  ASSERT_EQ(run.rec.messages.size(), 2u);
  EXPECT_EQ(run.rec.messages[1].target, "/2");
}

TEST(MessageParserTest, Http10WithoutHostIsAccepted) {
  ParseRun run;
  EXPECT_EQ(run.feed("GET / HTTP/1.0\r\n\r\n"), MessageParser::Status::kMessageComplete);
  EXPECT_FALSE(run.rec.messages.at(0).keep_alive);
}

struct BadRequest {
  const char* name;
  std::string input;
  int status;
};

void PrintTo(const BadRequest& b, std::ostream* os) {
  *os << b.name;
}

class RejectsTest : public ::testing::TestWithParam<BadRequest> {};

TEST_P(RejectsTest, WithTheRightStatusAndAReason) {
  ParseRun run;
  EXPECT_EQ(run.feed(GetParam().input), MessageParser::Status::kError);
  EXPECT_EQ(run.parser.error_status(), GetParam().status) << run.parser.error_reason();
  EXPECT_FALSE(run.parser.error_reason().empty());
  for (auto& m : run.rec.messages) EXPECT_FALSE(m.complete) << "no bad message completes";
}

INSTANTIATE_TEST_SUITE_P(
    Smuggling, RejectsTest,
    ::testing::Values(
        BadRequest{"ClAndTe",
                   "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: "
                   "chunked\r\n\r\n0\r\n\r\n",
                   400},
        BadRequest{
            "TwoContentLengths",
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc", 400},
        BadRequest{"ContentLengthList",
                   "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3\r\n\r\nabc", 400},
        BadRequest{"ContentLengthSign",
                   "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +3\r\n\r\nabc", 400},
        BadRequest{"ContentLengthOverflow",
                   "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999\r\n\r\n",
                   400},
        BadRequest{"TeNotChunkedLast",
                   "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 400},
        BadRequest{"TeIdentity",
                   "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n\r\n", 400},
        BadRequest{"TeGzipChunked",
                   "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501},
        BadRequest{"TeTwice",
                   "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: "
                   "chunked\r\n\r\n",
                   400},
        BadRequest{"SpaceBeforeColon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400},
        BadRequest{"BadNameByte", "GET / HTTP/1.1\r\nHost: a\r\nX(y): 1\r\n\r\n", 400},
        BadRequest{"NulInValue", "GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n"s, 400},
        BadRequest{"CrInValue", "GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n", 400},
        BadRequest{"MissingHost", "GET / HTTP/1.1\r\n\r\n", 400},
        BadRequest{"TwoHosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},
        BadRequest{"BadChunkSize",
                   "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nab\r\n",
                   400},
        BadRequest{"ChunkSizeOverflow",
                   "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                   "fffffffffffffffffff\r\n",
                   400},
        BadRequest{"Http2Version", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505},
        BadRequest{"Connect", "CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n", 405}),
    [](const auto& param_info) { return param_info.param.name; });

// RFC 9110 5.6.2 and 5.5, byte by byte: a field name is a token; a field value holds
// VCHAR, obs-text, SP and HTAB, and no other control character.
TEST(MessageParserTest, FieldNamesAreTokensAndValuesHoldNoControlCharacters) {
  const std::string tchars = "!#$%&'*+-.^_`|~";
  for (int c = 0; c < 256; ++c) {
    auto byte = static_cast<char>(c);
    if (c != '\r' && c != '\n' && c != ':') {
      ParseRun run;
      bool token = std::isalnum(c) != 0 || tchars.find(byte) != std::string::npos;
      std::string name = "X"s + byte + "Y";
      EXPECT_EQ(run.feed("GET / HTTP/1.1\r\nHost: a\r\n" + name + ": 1\r\n\r\n") !=
                    MessageParser::Status::kError,
                token)
          << "byte " << c << " in a name: " << run.parser.error_reason();
      if (!token) {
        EXPECT_EQ(run.parser.error_status(), 400);
      }
    }
    if (c != '\r' && c != '\n') {
      ParseRun run;
      bool allowed = c == '\t' || (c >= 0x20 && c != 0x7f);
      EXPECT_EQ(run.feed("GET / HTTP/1.1\r\nHost: a\r\nX: a"s + byte + "b\r\n\r\n") !=
                    MessageParser::Status::kError,
                allowed)
          << "byte " << c << " in a value: " << run.parser.error_reason();
    }
  }
  ParseRun response(MessageParser::Kind::kResponse);
  EXPECT_EQ(response.feed("HTTP/1.1 200 OK\r\nX: a\x7f\r\nContent-Length: 0\r\n\r\n"),
            MessageParser::Status::kError);
  EXPECT_EQ(response.parser.error_status(), 502) << "a target's bad header is the target's fault";
  EXPECT_NE(response.parser.error_reason().find("header value"), std::string::npos)
      << response.parser.error_reason();
}

TEST(MessageParserTest, TooManyHeadersIs431) {
  HeadLimits limits;
  limits.max_headers = 3;
  ParseRun run(MessageParser::Kind::kRequest, limits);
  EXPECT_EQ(run.feed("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n"),
            MessageParser::Status::kError);
  EXPECT_EQ(run.parser.error_status(), 431);
}

TEST(MessageParserTest, InvalidResponsesMapTo502) {
  ParseRun run(MessageParser::Kind::kResponse);
  EXPECT_EQ(run.feed("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n"),
            MessageParser::Status::kError);
  EXPECT_EQ(run.parser.error_status(), 502);
  ParseRun garbage(MessageParser::Kind::kResponse);
  EXPECT_EQ(garbage.feed("HTTQ/1.1 200 OK\r\n\r\n"), MessageParser::Status::kError);
  EXPECT_EQ(garbage.parser.error_status(), 502);
}

TEST(MessageParserTest, ResponseUntilCloseCompletesOnFinish) {
  ParseRun run(MessageParser::Kind::kResponse);
  EXPECT_EQ(run.feed("HTTP/1.1 200 OK\r\n\r\nabc"), MessageParser::Status::kOk);
  EXPECT_EQ(run.parser.finish().status, MessageParser::Status::kMessageComplete);
  EXPECT_EQ(run.rec.messages.at(0).body, "abc");
  EXPECT_TRUE(run.rec.messages.at(0).complete);
}

TEST(MessageParserTest, ResponseToHeadHasNoBody) {
  ParseRun run(MessageParser::Kind::kResponse);
  run.parser.set_request_was_head(true);
  EXPECT_EQ(run.feed("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"),
            MessageParser::Status::kMessageComplete);
  EXPECT_EQ(run.rec.messages.at(0).status, 200);
}

}  // namespace
}  // namespace ballast::http
