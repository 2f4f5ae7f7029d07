// The client side of HTTP/2 (requests to targets) against ballast's own server side, both
// over nghttp2 with no sockets: bytes are handed from one to the other until neither has
// anything more to say.
#include "h2/client_session.h"

#include <gtest/gtest.h>
#include <nghttp2/nghttp2.h>

#include <map>
#include <string>

#include "h2/server_session.h"

namespace ballast::h2 {
namespace {

struct Server : StreamEvents {
  explicit Server(const Limits& limits = {}) : session(limits, *this) {}
  void on_request_head(int32_t id, RequestHead& head, bool end_stream) override {
    heads[id] = head;
    if (end_stream) ended[id] = true;
  }
  void on_request_data(int32_t id, const char* data, size_t n) override {
    bodies[id].append(data, n);
    session.consumed(id, n);
  }
  void on_request_end(int32_t id) override { ended[id] = true; }
  void on_stream_close(int32_t id, uint32_t code) override { closed[id] = code; }
  size_t read_response_body(int32_t id, char* buf, size_t len, bool* end) override {
    std::string& body = responses[id];
    size_t n = std::min(len, body.size());
    body.copy(buf, n);
    body.erase(0, n);
    *end = body.empty();
    return n;
  }
  void respond(int32_t id, int status, const Fields& fields, const std::string& body) {
    responses[id] = body;
    session.submit_response(id, status, fields, !body.empty());
  }
  ServerSession session;
  std::map<int32_t, RequestHead> heads;
  std::map<int32_t, std::string> bodies, responses;
  std::map<int32_t, bool> ended;
  std::map<int32_t, uint32_t> closed;
};

struct Client : ResponseEvents {
  explicit Client(const Limits& limits = {}) : session(limits, *this) {}
  void on_response_head(int32_t id, ResponseHead& head, bool end_stream) override {
    heads[id] = head;
    if (end_stream) ended[id] = true;
  }
  void on_response_data(int32_t id, const char* data, size_t n) override {
    bodies[id].append(data, n);
    session.consumed(id, n);
  }
  void on_response_end(int32_t id) override { ended[id] = true; }
  void on_stream_close(int32_t id, uint32_t code) override { closed[id] = code; }
  size_t read_request_body(int32_t id, char* buf, size_t len, bool* end) override {
    std::string& body = requests[id];
    size_t n = std::min(len, body.size());
    body.copy(buf, n);
    body.erase(0, n);
    *end = body.empty();
    return n;
  }
  ClientSession session;
  std::map<int32_t, ResponseHead> heads;
  std::map<int32_t, std::string> bodies, requests;
  std::map<int32_t, bool> ended;
  std::map<int32_t, uint32_t> closed;
};

// Hands bytes across until neither side has any (bounded: a bug must not hang the test).
void exchange(Client& client, Server& server) {
  for (int round = 0; round < 1000; ++round) {
    core::Buffer to_server(nullptr), to_client(nullptr);
    ASSERT_TRUE(client.session.send(to_server, 1 << 20));
    if (!to_server.empty()) {
      ASSERT_TRUE(server.session.receive(to_server.data(), to_server.size()));
    }
    ASSERT_TRUE(server.session.send(to_client, 1 << 20));
    if (!to_client.empty()) {
      ASSERT_TRUE(client.session.receive(to_client.data(), to_client.size()));
    }
    if (to_server.empty() && to_client.empty()) return;
  }
  FAIL() << "the two sides kept talking";
}

const Fields kGet = {{":method", "GET"},
                     {":scheme", "http"},
                     {":authority", "app.test"},
                     {":path", "/items?x=1"},
                     {"accept", "text/plain"}};

TEST(ClientSessionTest, ARequestGetsItsResponse) {
  Server server;
  Client client;
  int32_t id = client.session.submit_request(kGet, false);
  ASSERT_EQ(id, 1);
  exchange(client, server);
  ASSERT_TRUE(server.heads.count(id));
  EXPECT_EQ(server.heads[id].method, "GET");
  EXPECT_EQ(server.heads[id].authority, "app.test");
  EXPECT_EQ(server.heads[id].path, "/items?x=1");
  EXPECT_TRUE(server.ended[id]);
  server.respond(id, 200, {{"content-type", "text/plain"}}, "hello");
  exchange(client, server);
  EXPECT_EQ(client.heads[id].status, 200);
  ASSERT_EQ(client.heads[id].fields.size(), 1u);
  EXPECT_EQ(client.heads[id].fields[0].first, "content-type");
  EXPECT_EQ(client.bodies[id], "hello");
  EXPECT_TRUE(client.ended[id]);
  ASSERT_TRUE(client.closed.count(id));
  EXPECT_EQ(client.closed[id], NGHTTP2_NO_ERROR);
  EXPECT_EQ(client.session.open_streams(), 0u);
}

TEST(ClientSessionTest, ARequestBodyLargerThanTheWindowsGoesWhole) {
  Server server;
  Client client;
  Fields post = kGet;
  post[0].second = "POST";
  int32_t id = client.session.submit_request(post, true);
  std::string body(300 * 1024, 'b');
  for (size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>('a' + i % 26);
  client.requests[id] = body;
  exchange(client, server);
  EXPECT_EQ(server.bodies[id], body);
  EXPECT_TRUE(server.ended[id]);
}

TEST(ClientSessionTest, ABodyThatIsNotThereYetWaitsForResume) {
  // The body arrives later (a client still sending it to ballast).
  struct Later : Client {
    size_t read_request_body(int32_t id, char* buf, size_t len, bool* end) override {
      if (!ready) {
        *end = false;
        return 0;
      }
      return Client::read_request_body(id, buf, len, end);
    }
    bool ready = false;
  } client;
  Server server;
  Fields post = kGet;
  post[0].second = "PUT";
  int32_t id = client.session.submit_request(post, true);
  exchange(client, server);
  ASSERT_TRUE(server.heads.count(id));
  EXPECT_FALSE(server.ended[id]);
  client.requests[id] = "late body";
  client.ready = true;
  client.session.resume_body(id);
  exchange(client, server);
  EXPECT_EQ(server.bodies[id], "late body");
  EXPECT_TRUE(server.ended[id]);
}

TEST(ClientSessionTest, StreamsAboveTheTargetsGoawayWereNotProcessed) {
  Server server;
  Client client;
  int32_t first = client.session.submit_request(kGet, false);
  exchange(client, server);
  server.session.shut_down();  // GOAWAY naming the first stream as the last it takes
  int32_t second = client.session.submit_request(kGet, false);
  ASSERT_GT(second, first);
  // The GOAWAY reaches the client before its new stream leaves.
  core::Buffer goaway(nullptr);
  ASSERT_TRUE(server.session.send(goaway, 1 << 20));
  ASSERT_TRUE(client.session.receive(goaway.data(), goaway.size()));
  exchange(client, server);
  EXPECT_FALSE(server.heads.count(second));
  EXPECT_EQ(client.session.stream_limit(), 0u) << "no new streams after GOAWAY";
  EXPECT_EQ(client.session.submit_request(kGet, false), -1);
  ASSERT_TRUE(client.closed.count(second));
  EXPECT_TRUE(client.session.unprocessed(second, client.closed[second]));
  EXPECT_FALSE(client.session.unprocessed(first, NGHTTP2_NO_ERROR));
  server.respond(first, 204, {}, "");
  exchange(client, server);
  EXPECT_EQ(client.heads[first].status, 204);
  EXPECT_TRUE(client.ended[first]);
}

TEST(ClientSessionTest, ARefusedStreamWasNotProcessed) {
  Server server;
  Client client;
  int32_t id = client.session.submit_request(kGet, false);
  exchange(client, server);
  server.session.reset(id, NGHTTP2_REFUSED_STREAM);
  exchange(client, server);
  ASSERT_TRUE(client.closed.count(id));
  EXPECT_EQ(client.closed[id], NGHTTP2_REFUSED_STREAM);
  EXPECT_TRUE(client.session.unprocessed(id, client.closed[id]));
}

TEST(ClientSessionTest, TheStreamLimitIsTheTargetsWithinOurs) {
  Limits few;
  few.max_concurrent_streams = 2;
  Server server(few);
  Client client;
  EXPECT_EQ(client.session.stream_limit(), 100u) << "ours, until the target says";
  exchange(client, server);
  EXPECT_EQ(client.session.stream_limit(), 2u);
  EXPECT_GT(client.session.submit_request(kGet, false), 0);
  EXPECT_GT(client.session.submit_request(kGet, false), 0);
  EXPECT_EQ(client.session.submit_request(kGet, false), -1);
  exchange(client, server);
  server.respond(1, 200, {}, "");
  exchange(client, server);
  EXPECT_EQ(client.session.open_streams(), 1u);
  EXPECT_GT(client.session.submit_request(kGet, false), 0);
}

TEST(ClientSessionTest, AResponseHeadLargerThanTheLimitIsFlagged) {
  Limits small;
  small.max_header_list_size = 512;
  Server server;
  Client client(small);
  int32_t id = client.session.submit_request(kGet, false);
  exchange(client, server);
  std::string big(2000, 'v');
  server.respond(id, 200, {{"x-big", big}}, "body");
  exchange(client, server);
  ASSERT_TRUE(client.heads.count(id));
  EXPECT_TRUE(client.heads[id].too_large);
  EXPECT_TRUE(client.heads[id].fields.empty());
}

}  // namespace
}  // namespace ballast::h2
