// The response cache (RFC 9111) end to end: hits, what is never stored, revalidation with
// the target, conditional and Range requests answered from the store, stale-if-error,
// request coalescing, Vary and compressed variants, invalidation, key policies, metrics.
#include <gtest/gtest.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <thread>

#include "support/content_decoding.h"
#include "support/http_client.h"
#include "support/load_loop.h"
#include "support/process.h"
#include "support/recording_server.h"
#include "support/test_env.h"

namespace ballast::test {
namespace {

std::string response(const std::string& body, const std::string& fields) {
  return "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n" + fields + "\r\n" + body;
}

bool asks(const std::string& head, const std::string& path) {
  return head.rfind("GET " + path + " ", 0) == 0 || head.rfind("HEAD " + path + " ", 0) == 0;
}

// The target's answers by path; the body says which request of the target made it.
std::string respond(const std::string& head) {
  static std::atomic<int> n{0};
  std::string count = std::to_string(++n);
  if (asks(head, "/fresh")) return response("fresh " + count, "Cache-Control: max-age=300\r\n");
  if (asks(head, "/cookie"))
    return response("c " + count, "Cache-Control: max-age=300\r\nSet-Cookie: s=1\r\n");
  if (asks(head, "/private")) return response("p " + count, "Cache-Control: private\r\n");
  if (asks(head, "/no-store")) return response("n " + count, "Cache-Control: no-store\r\n");
  if (asks(head, "/public-auth"))
    return response("pa " + count, "Cache-Control: public, max-age=300\r\n");
  if (asks(head, "/validated")) {
    // Always stale, so every request asks the target, which says 304 to its ETag.
    if (head.find("If-None-Match: \"v7\"") != std::string::npos)
      return "HTTP/1.1 304 Not Modified\r\nETag: \"v7\"\r\nCache-Control: max-age=0\r\n"
             "X-Updated: " +
             count + "\r\n\r\n";
    return response("validated body", "Cache-Control: max-age=0\r\nETag: \"v7\"\r\n");
  }
  if (asks(head, "/lang"))
    return response("lang " + count, "Cache-Control: max-age=300\r\nVary: Accept-Language\r\n");
  if (asks(head, "/range"))
    return response("0123456789abcdefghij", "Cache-Control: max-age=300\r\nETag: \"r1\"\r\n");
  if (asks(head, "/query")) return response("q " + count, "Cache-Control: max-age=300\r\n");
  if (asks(head, "/default")) return response("d " + count, "");
  if (asks(head, "/tagged"))
    return response("t " + count, "Cache-Control: max-age=300\r\nSurrogate-Key: news front\r\n");
  if (head.rfind("POST /fresh", 0) == 0) return response("posted", "");
  return response("other " + count, "Cache-Control: max-age=300\r\n");
}

std::string config(uint16_t target, const std::string& extra_rules = "",
                   const std::string& cache = "{ default_ttl: 0s }") {
  return "workers: 2\nlisteners:\n  - name: web\n    bind: 127.0.0.1:${PORT}\n    rules:\n" +
         extra_rules + "      - forward: { target_group: app }\n        cache: " + cache +
         "\ntarget_groups:\n  - name: app\n    targets: [ { address: " + loopback(target) +
         " } ]\n";
}

std::optional<Response> get(uint16_t port, const std::string& path, const std::string& extra = "") {
  Client c(port);
  return c.get(path, extra);
}

TEST(CacheTest, ASecondRequestIsAHitAndHeadIsServedFromTheGet) {
  RecordingServer target(respond);
  Ballast lb(config(target.port()));
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  auto first = get(lb.port(), "/fresh");
  ASSERT_TRUE(first);
  EXPECT_EQ(first->header("x-cache"), "MISS");
  size_t fetched = target.requests();
  for (int i = 0; i < 4; ++i) {
    auto hit = get(lb.port(), "/fresh");
    ASSERT_TRUE(hit);
    EXPECT_EQ(hit->status, 200);
    EXPECT_EQ(hit->header("x-cache"), "HIT");
    EXPECT_EQ(hit->body, first->body);
    EXPECT_EQ(hit->header("cache-control"), "max-age=300");
    EXPECT_FALSE(hit->header("age").empty());
  }
  Client c(lb.port());
  ASSERT_TRUE(c.send_raw("HEAD /fresh HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto head = c.read_response(true, /*head_request=*/true);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->header("x-cache"), "HIT");
  EXPECT_EQ(head->header("content-length"), std::to_string(first->body.size()));
  EXPECT_EQ(target.requests(), fetched) << "no hit reached the target";
  // The connection stays usable after a hit.
  auto again = c.get("/fresh");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->header("x-cache"), "HIT");
}

TEST(CacheTest, WhatIsNeverStored) {
  RecordingServer target(respond);
  Ballast lb(config(target.port()));
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  for (std::string path : {"/cookie", "/private", "/no-store", "/default"}) {
    auto a = get(lb.port(), path);
    auto b = get(lb.port(), path);
    ASSERT_TRUE(a && b) << path;
    EXPECT_EQ(b->header("x-cache"), "MISS") << path;
    EXPECT_NE(a->body, b->body) << path << ": both from the target";
  }
  // A request with credentials: the response is not shared unless it says public.
  auto auth1 = get(lb.port(), "/fresh-auth", "Authorization: Basic YTpi\r\n");
  auto auth2 = get(lb.port(), "/fresh-auth");
  ASSERT_TRUE(auth1 && auth2);
  EXPECT_EQ(auth2->header("x-cache"), "MISS");
  auto public1 = get(lb.port(), "/public-auth", "Authorization: Basic YTpi\r\n");
  auto public2 = get(lb.port(), "/public-auth");
  ASSERT_TRUE(public1 && public2);
  EXPECT_EQ(public2->header("x-cache"), "HIT");
  // The client's no-store: neither stored nor served from the store.
  auto ns = get(lb.port(), "/other-ns", "Cache-Control: no-store\r\n");
  auto after = get(lb.port(), "/other-ns");
  ASSERT_TRUE(ns && after);
  EXPECT_EQ(after->header("x-cache"), "MISS");
  // POST is not cached, and a successful one drops what is stored for its URL.
  ASSERT_TRUE(get(lb.port(), "/fresh"));
  ASSERT_EQ(get(lb.port(), "/fresh")->header("x-cache"), "HIT");
  Client poster(lb.port());
  ASSERT_TRUE(poster.send_raw("POST /fresh HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi"));
  auto posted = poster.read_response();
  ASSERT_TRUE(posted);
  EXPECT_EQ(posted->header("x-cache"), "BYPASS");
  EXPECT_EQ(get(lb.port(), "/fresh")->header("x-cache"), "MISS");
}

TEST(CacheTest, RevalidatesWithTheTargetAndAnswersClientsConditionsItself) {
  RecordingServer target(respond);
  Ballast lb(config(target.port()));
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  auto first = get(lb.port(), "/validated");
  ASSERT_TRUE(first);
  EXPECT_EQ(first->header("x-cache"), "MISS");
  auto second = get(lb.port(), "/validated");
  ASSERT_TRUE(second);
  EXPECT_EQ(second->status, 200);
  EXPECT_EQ(second->header("x-cache"), "REVALIDATED");
  EXPECT_EQ(second->body, "validated body");
  EXPECT_FALSE(second->header("x-updated").empty()) << "the 304's fields update the stored ones";
  EXPECT_NE(target.received().find("If-None-Match: \"v7\""), std::string::npos);
  // The client's own validator: answered 304 by ballast after its revalidation.
  auto not_modified = get(lb.port(), "/validated", "If-None-Match: \"v7\"\r\n");
  ASSERT_TRUE(not_modified);
  EXPECT_EQ(not_modified->status, 304);
  EXPECT_EQ(not_modified->body, "");
  EXPECT_EQ(not_modified->header("etag"), "\"v7\"");
  // On a fresh hit, too.
  ASSERT_TRUE(get(lb.port(), "/range"));
  auto fresh_304 = get(lb.port(), "/range", "If-None-Match: W/\"r0\", \"r1\"\r\n");
  ASSERT_TRUE(fresh_304);
  EXPECT_EQ(fresh_304->status, 304);
  EXPECT_EQ(fresh_304->header("x-cache"), "HIT");
}

TEST(CacheTest, RangesAreServedFromTheStoredObject) {
  RecordingServer target(respond);
  Ballast lb(config(target.port()));
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  ASSERT_TRUE(get(lb.port(), "/range"));
  size_t fetched = target.requests();
  auto part = get(lb.port(), "/range", "Range: bytes=2-5\r\n");
  ASSERT_TRUE(part);
  EXPECT_EQ(part->status, 206);
  EXPECT_EQ(part->body, "2345");
  EXPECT_EQ(part->header("content-range"), "bytes 2-5/20");
  auto suffix = get(lb.port(), "/range", "Range: bytes=-3\r\n");
  ASSERT_TRUE(suffix);
  EXPECT_EQ(suffix->body, "hij");
  auto past = get(lb.port(), "/range", "Range: bytes=30-\r\n");
  ASSERT_TRUE(past);
  EXPECT_EQ(past->status, 416);
  EXPECT_EQ(past->header("content-range"), "bytes */20");
  auto changed = get(lb.port(), "/range", "Range: bytes=2-5\r\nIf-Range: \"other\"\r\n");
  ASSERT_TRUE(changed);
  EXPECT_EQ(changed->status, 200) << "If-Range does not match: the whole";
  EXPECT_EQ(changed->body, "0123456789abcdefghij");
  EXPECT_EQ(target.requests(), fetched);
}

TEST(CacheTest, StaleIfErrorWhenTheTargetFailsOrIsGone) {
  std::atomic<bool> failing{false};
  RecordingServer target([&](const std::string& head) {
    if (failing) return std::string("HTTP/1.1 503 Busy\r\nContent-Length: 4\r\n\r\nbusy");
    (void)head;
    return response("kept", "Cache-Control: max-age=0, stale-if-error=600\r\n");
  });
  auto lb = std::make_unique<Ballast>(config(target.port()));
  ASSERT_TRUE(lb->ready()) << lb->process().log();
  ASSERT_EQ(get(lb->port(), "/s")->header("x-cache"), "MISS");
  failing = true;
  auto on_5xx = get(lb->port(), "/s");
  ASSERT_TRUE(on_5xx);
  EXPECT_EQ(on_5xx->status, 200);
  EXPECT_EQ(on_5xx->header("x-cache"), "STALE");
  EXPECT_EQ(on_5xx->body, "kept");
}

TEST(CacheTest, StaleIfErrorWhenNoTargetAnswers) {
  auto target = std::make_unique<RecordingServer>([](const std::string&) {
    return response("kept", "Cache-Control: max-age=0, stale-if-error=600\r\n");
  });
  uint16_t port = target->port();
  Ballast lb(config(port));
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  ASSERT_EQ(get(lb.port(), "/s")->header("x-cache"), "MISS");
  target.reset();  // connections are refused from here on
  auto stale = get(lb.port(), "/s");
  ASSERT_TRUE(stale);
  EXPECT_EQ(stale->status, 200);
  EXPECT_EQ(stale->header("x-cache"), "STALE");
  EXPECT_EQ(stale->body, "kept");
  auto never_stored = get(lb.port(), "/other");
  ASSERT_TRUE(never_stored);
  EXPECT_GE(never_stored->status, 500);
}

TEST(CacheTest, StaleWhileRevalidateAnswersAtOnceAndRefreshesInTheBackground) {
  std::atomic<int> n{0};
  std::atomic<int> conditional{0};
  // The first answers live one second; a refresh lives a minute, so that a slow machine cannot
  // see the refreshed copy go stale (and be refreshed again) before the test looks at it.
  std::atomic<bool> refreshing{false};
  auto cache_control = [&] {
    return std::string(refreshing ? "Cache-Control: max-age=60\r\n"
                                  : "Cache-Control: max-age=1, stale-while-revalidate=60\r\n");
  };
  RecordingServer target([&](const std::string& head) {
    if (head.find("If-None-Match: \"v1\"") != std::string::npos) {
      conditional.fetch_add(1);
      return "HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\n" + cache_control() + "\r\n";
    }
    std::string body = "version " + std::to_string(++n);
    return response(
        body, cache_control() + std::string(head.find("GET /etag") == 0 ? "ETag: \"v1\"\r\n" : ""));
  });
  Ballast lb(config(target.port()));
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  // Without a validator: the refresh fetches the whole response anew.
  ASSERT_EQ(get(lb.port(), "/plain")->body, "version 1");
  ASSERT_EQ(get(lb.port(), "/etag")->body, "version 2");
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));  // both are stale now
  refreshing = true;
  auto stale = get(lb.port(), "/plain");
  ASSERT_TRUE(stale);
  EXPECT_EQ(stale->header("x-cache"), "STALE");
  EXPECT_EQ(stale->body, "version 1") << "answered from the store, not after the target";
  EXPECT_TRUE(within(5, [&] {
    auto r = get(lb.port(), "/plain");
    return r && r->header("x-cache") == "HIT" && r->body == "version 3";
  })) << "the background fetch refreshed the store";
  // With one: a 304 makes the stored response fresh again.
  auto stale_etag = get(lb.port(), "/etag");
  ASSERT_TRUE(stale_etag);
  EXPECT_EQ(stale_etag->header("x-cache"), "STALE");
  EXPECT_TRUE(within(5, [&] {
    auto r = get(lb.port(), "/etag");
    return r && r->header("x-cache") == "HIT" && r->body == "version 2";
  }));
  EXPECT_EQ(conditional.load(), 1);
  EXPECT_EQ(n.load(), 3) << "one background fetch each, nothing more";
}

TEST(CacheTest, TwoHundredConcurrentMissesMakeOneUpstreamRequest) {
  std::atomic<int> fetches{0};
  RecordingServer target([&](const std::string& head) {
    if (head.find("GET /cold") == 0) {
      fetches.fetch_add(1);
      std::this_thread::sleep_for(std::chrono::milliseconds(500));  // a slow origin
    }
    return response(std::string(2000, 'c'), "Cache-Control: max-age=300\r\n");
  });
  Ballast lb(config(target.port()));
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  constexpr int kClients = 200;
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.push_back(std::make_unique<Client>(lb.port(), 20000));
    ASSERT_TRUE(clients.back()->connected());
  }
  for (auto& c : clients) ASSERT_TRUE(c->send_raw("GET /cold HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::map<std::string, int> outcomes;
  for (auto& c : clients) {
    auto r = c->read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body.size(), 2000u);
    ++outcomes[r->header("x-cache")];
  }
  EXPECT_EQ(fetches.load(), 1) << "one fetch for the key";
  EXPECT_EQ(outcomes["MISS"], 1);
  EXPECT_EQ(outcomes["HIT"], kClients - 1);
  EXPECT_TRUE(within(5, [&] {
    return metric_value(lb.admin_port(),
                        "ballast_rule_cache_coalesced_total{listener=\"web\",rule=\"0\"}") ==
           kClients - 1;
  })) << admin_call(lb.admin_port(), "GET", "/metrics").body;
}

TEST(CacheTest, WaitersGoOnTheirOwnWhenTheFetchIsNotStorable) {
  std::atomic<int> fetches{0};
  RecordingServer target([&](const std::string&) {
    fetches.fetch_add(1);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    return response("mine", "Cache-Control: private\r\n");
  });
  Ballast lb(config(target.port()));
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 10; ++i) clients.push_back(std::make_unique<Client>(lb.port()));
  for (auto& c : clients) ASSERT_TRUE(c->send_raw("GET /p HTTP/1.1\r\nHost: x\r\n\r\n"));
  for (auto& c : clients) {
    auto r = c->read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->header("x-cache"), "MISS");
  }
  EXPECT_EQ(fetches.load(), 10) << "a private answer is each client's own";
}

TEST(CacheTest, VaryAndCompressionMakeSeparateVariants) {
  RecordingServer target([](const std::string& head) {
    static std::atomic<int> n{0};
    std::string count = std::to_string(++n);
    if (head.find("GET /lang") == 0)
      return response("lang " + count, "Cache-Control: max-age=300\r\nVary: Accept-Language\r\n");
    std::string page(20000, 'x');
    return "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nCache-Control: max-age=300\r\n"
           "Content-Length: " +
           std::to_string(page.size()) + "\r\n\r\n" + page;
  });
  Ballast lb(config(target.port(), "",
                    "{ default_ttl: 0s }\n        compression: { codings: [br, gzip] }"));
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  auto de = get(lb.port(), "/lang", "Accept-Language: de\r\n");
  auto fr = get(lb.port(), "/lang", "Accept-Language: fr\r\n");
  auto de2 = get(lb.port(), "/lang", "Accept-Language:  de \r\n");
  ASSERT_TRUE(de && fr && de2);
  EXPECT_NE(de->body, fr->body);
  EXPECT_EQ(de2->header("x-cache"), "HIT");
  EXPECT_EQ(de2->body, de->body);
  // Each coding is a variant of its own, stored coded.
  auto br = get(lb.port(), "/page", "Accept-Encoding: br\r\n");
  auto gzip = get(lb.port(), "/page", "Accept-Encoding: gzip\r\n");
  auto plain = get(lb.port(), "/page");
  ASSERT_TRUE(br && gzip && plain);
  EXPECT_EQ(br->header("x-cache"), "MISS");
  EXPECT_EQ(gzip->header("x-cache"), "MISS");
  EXPECT_EQ(plain->header("x-cache"), "MISS");
  auto br2 = get(lb.port(), "/page", "Accept-Encoding: br\r\n");
  auto gzip2 = get(lb.port(), "/page", "Accept-Encoding: gzip\r\n");
  auto plain2 = get(lb.port(), "/page");
  ASSERT_TRUE(br2 && gzip2 && plain2);
  EXPECT_EQ(br2->header("x-cache"), "HIT");
  EXPECT_EQ(br2->header("content-encoding"), "br");
  EXPECT_EQ(br2->header("vary"), "Accept-Encoding");
  EXPECT_TRUE(decode_content("br", br2->body) == std::string(20000, 'x'));
  EXPECT_EQ(gzip2->header("x-cache"), "HIT");
  EXPECT_EQ(gzip2->header("content-encoding"), "gzip");
  EXPECT_TRUE(decode_content("gzip", gzip2->body) == std::string(20000, 'x'));
  EXPECT_EQ(plain2->header("x-cache"), "HIT");
  EXPECT_EQ(plain2->header("content-encoding"), "");
  EXPECT_EQ(plain2->body, std::string(20000, 'x'));
}

TEST(CacheTest, TheRulesKeyPolicyAndLifetimes) {
  RecordingServer target(respond);
  Ballast lb(config(target.port(),
                    "      - match: { path_prefix: /query }\n"
                    "        forward: { target_group: app }\n"
                    "        cache: { key: { query: { only: [id] }, headers: [X-Device] } }\n",
                    "{ default_ttl: 60s }"));
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  ASSERT_EQ(get(lb.port(), "/query?id=1&utm=a")->header("x-cache"), "MISS");
  EXPECT_EQ(get(lb.port(), "/query?utm=b&id=1")->header("x-cache"), "HIT");
  EXPECT_EQ(get(lb.port(), "/query?id=2")->header("x-cache"), "MISS");
  EXPECT_EQ(get(lb.port(), "/query?id=1", "X-Device: phone\r\n")->header("x-cache"), "MISS");
  // default_ttl gives a lifetime to a response that has none of its own.
  ASSERT_EQ(get(lb.port(), "/default")->header("x-cache"), "MISS");
  EXPECT_EQ(get(lb.port(), "/default")->header("x-cache"), "HIT");
}

TEST(CacheTest, MetricsCountOutcomesAndTheStore) {
  RecordingServer target(respond);
  Ballast lb(config(target.port()));
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  ASSERT_TRUE(get(lb.port(), "/fresh"));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(get(lb.port(), "/fresh"));
  EXPECT_TRUE(within(5, [&] {
    return metric_value(lb.admin_port(),
                        "ballast_rule_cache_responses_total{listener=\"web\",rule=\"0\","
                        "outcome=\"HIT\"}") == 3 &&
           metric_value(lb.admin_port(),
                        "ballast_rule_cache_responses_total{listener=\"web\",rule=\"0\","
                        "outcome=\"MISS\"}") == 1;
  })) << admin_call(lb.admin_port(), "GET", "/metrics").body;
  EXPECT_EQ(metric_value(lb.admin_port(), "ballast_cache_objects"), 1);
  EXPECT_GT(metric_value(lb.admin_port(),
                         "ballast_rule_cache_served_bytes_total{listener=\"web\",rule=\"0\"}"),
            0);
}

TEST(CacheTest, PurgesByUrlPrefixAndTagThroughTheApiAndCtl) {
  RecordingServer target(respond);
  Ballast lb(config(target.port()));
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  auto stored = [&](const std::string& path) {
    return get(lb.port(), path)->header("x-cache") == "HIT";
  };
  auto fill = [&] {
    for (std::string path : {"/fresh", "/a/1", "/a/2", "/tagged"})
      ASSERT_TRUE(get(lb.port(), path));
  };
  fill();
  ASSERT_TRUE(stored("/fresh") && stored("/a/1") && stored("/a/2") && stored("/tagged"));
  auto by_url =
      admin_call(lb.admin_port(), "POST", "/api/v1/cache/purge", R"({"url": "http://x/fresh"})");
  ASSERT_EQ(by_url.status, 200) << by_url.body;
  EXPECT_EQ(nlohmann::json::parse(by_url.body)["purged"], 1);
  EXPECT_FALSE(stored("/fresh"));
  auto by_prefix =
      admin_call(lb.admin_port(), "POST", "/api/v1/cache/purge", R"({"prefix": "x/a/"})");
  EXPECT_EQ(nlohmann::json::parse(by_prefix.body)["purged"], 2);
  EXPECT_FALSE(stored("/a/1"));
  EXPECT_FALSE(stored("/a/2"));
  std::string dir = make_temp_dir();
  Process ctl({BALLAST_BINARY, "ctl", "--admin", loopback(lb.admin_port()), "cache", "purge", "tag",
               "front"},
              dir + "/purge.log");
  EXPECT_EQ(ctl.wait_exit(10000), 0) << ctl.log();
  EXPECT_NE(ctl.log().find("purged 1 object(s)"), std::string::npos) << ctl.log();
  EXPECT_FALSE(stored("/tagged"));
  // Bad purges say what is wrong.
  auto neither = admin_call(lb.admin_port(), "POST", "/api/v1/cache/purge", R"({"path": "/"})");
  EXPECT_EQ(neither.status, 400);
  EXPECT_NE(neither.body.find(R"(needs \"url\", \"prefix\" or \"tag\")"), std::string::npos)
      << neither.body;
  auto both =
      admin_call(lb.admin_port(), "POST", "/api/v1/cache/purge", R"({"url": "x/a", "tag": "t"})");
  EXPECT_EQ(both.status, 400);
  // The listing: biggest and hottest.
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(get(lb.port(), "/range"));
  auto listing = admin_call(lb.admin_port(), "GET", "/api/v1/cache?limit=3");
  ASSERT_EQ(listing.status, 200) << listing.body;
  auto j = nlohmann::json::parse(listing.body);
  EXPECT_TRUE(j["enabled"].get<bool>());
  ASSERT_FALSE(j["hottest"].empty());
  EXPECT_EQ(j["hottest"][0]["url"], "x/range");
  EXPECT_GE(j["hottest"][0]["hits"].get<int>(), 4);
  EXPECT_LE(j["biggest"].size(), 3u);
  Process list({BALLAST_BINARY, "ctl", "--admin", loopback(lb.admin_port()), "cache"},
               dir + "/list.log");
  EXPECT_EQ(list.wait_exit(10000), 0) << list.log();
  EXPECT_NE(list.log().find("HOTTEST"), std::string::npos) << list.log();
  EXPECT_NE(list.log().find("x/range"), std::string::npos) << list.log();
}

std::string large_body() {
  std::string body;
  for (int i = 0; body.size() < 300000; ++i) body += "line " + std::to_string(i) + "\n";
  return body;
}

TEST(CacheTest, LargeObjectsGoOutFromTheStoreInOrderWithPipelinedRequests) {
  const std::string body = large_body();
  RecordingServer target([&](const std::string& head) {
    if (head.find("GET /small") == 0) return response("small", "Cache-Control: max-age=60\r\n");
    return response(body, "Cache-Control: max-age=60\r\n");
  });
  Ballast lb(config(target.port(), "", "{ max_object_size: 1MiB }"));
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  ASSERT_EQ(get(lb.port(), "/big")->header("x-cache"), "MISS");
  ASSERT_EQ(get(lb.port(), "/small")->header("x-cache"), "MISS");
  // Three requests in one write: a large hit, a small hit, a large hit, answered in order.
  Client c(lb.port());
  std::string one = "GET /big HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_TRUE(c.send_raw(one + "GET /small HTTP/1.1\r\nHost: x\r\n\r\n" + one));
  for (std::string expected : {body, std::string("small"), body}) {
    auto r = c.read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->header("x-cache"), "HIT");
    EXPECT_TRUE(r->body == expected) << "a body of " << r->body.size() << " bytes";
  }
  // A range of a large object, and HTTP/2.
  auto part = get(lb.port(), "/big", "Range: bytes=100000-199999\r\n");
  ASSERT_TRUE(part);
  EXPECT_EQ(part->status, 206);
  EXPECT_TRUE(part->body == body.substr(100000, 100000));
  // (nghttp's :authority is 127.0.0.1:port, another key than "x": its first request stores.)
  std::string dir = make_temp_dir();
  std::vector<std::string> argv = {"/usr/bin/nghttp", "-n", "-s", "-v",
                                   "http://127.0.0.1:" + std::to_string(lb.port()) + "/big"};
  Process first(argv, dir + "/first.log");
  ASSERT_EQ(first.wait_exit(20000), 0) << first.log();
  Process nghttp(argv, dir + "/nghttp.log");
  ASSERT_EQ(nghttp.wait_exit(20000), 0) << nghttp.log();
  EXPECT_NE(nghttp.log().find("x-cache: HIT"), std::string::npos) << nghttp.log();
  EXPECT_NE(nghttp.log().find("content-length: " + std::to_string(body.size())), std::string::npos);
  EXPECT_EQ(nghttp.log().find("recv RST_STREAM"), std::string::npos) << nghttp.log();
}

TEST(CacheTest, EvictionsAreCountedForTheRuleThatStored) {
  RecordingServer target([](const std::string&) {
    return response(std::string(20000, 'e'), "Cache-Control: max-age=300\r\n");
  });
  // 1 MiB: shards of 64 KiB, three objects of 20 KB each.
  Ballast lb("cache: { memory: 1MiB }\n" + config(target.port(), "", "{ max_object_size: 64KiB }"));
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  // URLs asked for once fill the shards; then others asked for three times each push them
  // out (a newcomer must have been asked for more often than what it replaces).
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(get(lb.port(), "/cold" + std::to_string(i)));
  for (int i = 0; i < 100; ++i) {
    for (int ask = 0; ask < 3; ++ask) ASSERT_TRUE(get(lb.port(), "/hot" + std::to_string(i)));
  }
  double store_evictions = metric_value(lb.admin_port(), "ballast_cache_evictions_total");
  // The store held 48 (16 shards of 3): about as many cold ones were pushed out.
  EXPECT_GE(store_evictions, 40)
      << admin_call(lb.admin_port(), "GET", "/api/v1/cache?limit=2").body;
  EXPECT_EQ(metric_value(lb.admin_port(),
                         "ballast_rule_cache_evictions_total{listener=\"web\",rule=\"0\"}"),
            store_evictions);
  EXPECT_LE(metric_value(lb.admin_port(), "ballast_cache_bytes"), 1 << 20);
}

TEST(CacheTest, TheDiskTierServesAfterARestart) {
  RecordingServer target(respond);
  std::string dir = make_temp_dir();
  std::string yaml = "cache: { memory: 64MiB, disk: { path: " + dir + "/cache, size: 64MiB } }\n" +
                     config(target.port());
  std::string first_body;
  {
    Ballast lb(yaml);
    ASSERT_TRUE(lb.ready()) << lb.process().log();
    auto first = get(lb.port(), "/fresh");
    ASSERT_TRUE(first);
    EXPECT_EQ(first->header("x-cache"), "MISS");
    first_body = first->body;
    EXPECT_TRUE(within(5, [&] {
      return metric_value(lb.admin_port(), "ballast_cache_disk_writes_total") == 1;
    })) << admin_call(lb.admin_port(), "GET", "/metrics").body;
  }
  size_t fetched = target.requests();
  Ballast again(yaml);  // a new process: its memory is empty
  ASSERT_TRUE(again.ready()) << again.process().log();
  EXPECT_NE(again.process().log().find("holds 1 object(s)"), std::string::npos)
      << again.process().log();
  auto warm = get(again.port(), "/fresh");
  ASSERT_TRUE(warm);
  EXPECT_EQ(warm->header("x-cache"), "HIT");
  EXPECT_EQ(warm->body, first_body);
  EXPECT_EQ(target.requests(), fetched) << "answered from the disk tier";
  EXPECT_EQ(metric_value(again.admin_port(), "ballast_cache_disk_reads_total"), 1);
  // A purge reaches the disk too.
  auto purged =
      admin_call(again.admin_port(), "POST", "/api/v1/cache/purge", R"({"url": "x/fresh"})");
  EXPECT_NE(purged.body.find("\"purged_from_disk\": 1"), std::string::npos) << purged.body;
}

TEST(CacheTest, ReloadKeepsTheStore) {
  RecordingServer target(respond);
  Ballast lb(config(target.port()));
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  ASSERT_TRUE(get(lb.port(), "/fresh"));
  ASSERT_EQ(get(lb.port(), "/fresh")->header("x-cache"), "HIT");
  auto reloaded = admin_call(lb.admin_port(), "POST", "/api/v1/reload");
  ASSERT_EQ(reloaded.status, 200) << reloaded.body;
  EXPECT_EQ(get(lb.port(), "/fresh")->header("x-cache"), "HIT");
}

}  // namespace
}  // namespace ballast::test
