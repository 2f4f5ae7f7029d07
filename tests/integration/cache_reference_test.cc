// A differential test of the response cache against Varnish (Debian's varnishd, started
// here on loopback): the same sequence of requests, against the same scripted target
// responses (Cache-Control directives, validators, Vary, Age), goes through ballast and
// through Varnish, and for each request the test records whether the target was asked.
// Where both agree, that is RFC 9111's behaviour; each place where Varnish departs from the
// RFC is listed with the section it departs from (docs/cache.md explains each), and ballast
// must do what the RFC says there.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <ctime>
#include <map>
#include <thread>

#include "core/thread_annotations.h"
#include "support/http_client.h"
#include "support/ports.h"
#include "support/process.h"
#include "support/recording_server.h"
#include "support/test_env.h"

namespace ballast::test {
namespace {

// An IMF-fixdate, written here rather than with ballast's own code.
std::string http_date(int64_t unix_seconds) {
  time_t t = static_cast<time_t>(unix_seconds);
  struct tm tm {};
  gmtime_r(&t, &tm);
  char out[64];
  strftime(out, sizeof(out), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return out;
}

// The scripted target: the response fields of each path, and a count of requests by path.
class Origin {
 public:
  Origin() : server_([this](const std::string& head) { return answer(head); }) {}
  uint16_t port() const { return server_.port(); }
  int asked(const std::string& path) {
    core::MutexLock lock(mu_);
    return asked_[path];
  }

 private:
  std::string answer(const std::string& head) {
    size_t sp = head.find(' ');
    std::string method = head.substr(0, sp);
    std::string path = head.substr(sp + 1, head.find(' ', sp + 1) - sp - 1);
    int n;
    {
      core::MutexLock lock(mu_);
      n = ++asked_[path];
    }
    int64_t now = ::time(nullptr);
    std::string date = "Date: " + http_date(now) + "\r\n";
    std::string fields = fields_for(path, now);
    int status = 200;
    if (path.starts_with("/status-404")) status = 404;
    if (path.starts_with("/status-500")) status = 500;
    if (method == "POST") {
      fields = "";
      status = 200;
    }
    bool validated = fields.find("ETag: \"e1\"") != std::string::npos &&
                     head.find("If-None-Match: \"e1\"") != std::string::npos;
    if (validated) return "HTTP/1.1 304 Not Modified\r\n" + date + fields + "\r\n";
    std::string body = path + " #" + std::to_string(n);
    return "HTTP/1.1 " + std::to_string(status) + " X\r\n" + date + fields +
           "Content-Type: text/plain\r\nContent-Length: " + std::to_string(body.size()) +
           "\r\n\r\n" + (method == "HEAD" ? "" : body);
  }

  static std::string fields_for(const std::string& path, int64_t now) {
    const std::map<std::string, std::string> fields = {
        {"/max-age", "Cache-Control: max-age=60\r\n"},
        {"/s-maxage", "Cache-Control: max-age=0, s-maxage=60\r\n"},
        {"/expires", "Expires: " + http_date(now + 60) + "\r\n"},
        {"/no-store", "Cache-Control: no-store, max-age=60\r\n"},
        {"/private", "Cache-Control: private, max-age=60\r\n"},
        {"/set-cookie", "Cache-Control: max-age=60\r\nSet-Cookie: id=1\r\n"},
        {"/vary-star", "Cache-Control: max-age=60\r\nVary: *\r\n"},
        {"/no-cache-etag", "Cache-Control: no-cache\r\nETag: \"e1\"\r\n"},
        {"/vary-lang", "Cache-Control: max-age=60\r\nVary: Accept-Language\r\n"},
        {"/age-past", "Cache-Control: max-age=60\r\nAge: 100\r\n"},
        {"/short", "Cache-Control: max-age=2\r\n"},  // whole seconds: 2 stays fresh >= 1 s
        {"/head", "Cache-Control: max-age=60\r\n"},
        {"/status-404", "Cache-Control: max-age=60\r\n"},
        {"/status-500", "Cache-Control: max-age=60\r\n"},
        {"/conditional", "Cache-Control: max-age=60\r\nETag: \"c1\"\r\n"},
        {"/range", "Cache-Control: max-age=60\r\n"},
        {"/authorization", "Cache-Control: max-age=60\r\n"},
        {"/request-no-cache", "Cache-Control: max-age=60\r\n"},
        {"/post", "Cache-Control: max-age=60\r\n"},
        {"/cookie", "Cache-Control: max-age=60\r\n"},
        {"/none", ""},
    };
    auto it = fields.find(path);
    return it == fields.end() ? std::string() : it->second;
  }

  core::Mutex mu_;
  std::map<std::string, int> asked_ GUARDED_BY(mu_);
  RecordingServer server_;
};

// Varnish with its built-in VCL, nothing kept past a response's lifetime (no grace, no
// keep: a stale object is fetched again), no default TTL (as the RFC: no heuristics).
class Varnish {
 public:
  explicit Varnish(uint16_t origin) : port_(free_port()) {
    dir_ = make_temp_dir();
    ::chmod(dir_.c_str(), 0755);  // its worker process runs as another user
    process_ = std::make_unique<Process>(
        std::vector<std::string>{"/usr/sbin/varnishd", "-F", "-a", loopback(port_), "-b",
                                 loopback(origin), "-n", dir_ + "/work", "-s", "malloc,32m", "-T",
                                 "none", "-p", "default_ttl=0", "-p", "default_grace=0", "-p",
                                 "default_keep=0"},
        dir_ + "/varnish.log");
    ready_ = within(20, [&] { return Client(port_, 500).get("/__ready").has_value(); });
  }
  ~Varnish() {
    process_->signal(SIGTERM);
    if (process_->wait_exit(10000) < 0) process_->signal(SIGKILL);
  }
  bool ready() const { return ready_; }
  uint16_t port() const { return port_; }
  std::string log() const { return process_->log(); }

 private:
  uint16_t port_;
  std::string dir_;
  bool ready_ = false;
  std::unique_ptr<Process> process_;
};

bool have_varnish() {
  return ::access("/usr/sbin/varnishd", X_OK) == 0;
}

struct Step {
  Step(std::string r, std::string f = "", int sleep = 0)  // NOLINT: brace lists read best
      : request(std::move(r)), fields(std::move(f)), sleep_ms(sleep) {}
  std::string request;  // "GET /path" or "HEAD /path" or "POST /path"
  std::string fields;   // extra request fields
  int sleep_ms = 0;     // before the request
};

struct Scenario {
  std::string name;
  std::vector<Step> steps;
  std::vector<bool> rfc;  // per step: the target is asked (as RFC 9111 has it)
  // Where Varnish departs from the RFC: what it does instead, and why (empty: it agrees).
  std::vector<bool> varnish;
  std::string departure;
};

// For each step, whether the target was asked (and the status the client got).
std::vector<bool> run(const Scenario& s, uint16_t port, Origin& origin, std::string* statuses) {
  std::vector<bool> asked;
  for (const Step& step : s.steps) {
    if (step.sleep_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(step.sleep_ms));
    std::string path = step.request.substr(step.request.find(' ') + 1);
    int before = origin.asked(path);
    Client c(port);
    bool head = step.request.starts_with("HEAD");
    std::string body = step.request.starts_with("POST") ? "x" : "";
    c.send_raw(step.request + " HTTP/1.1\r\nHost: ref.test\r\n" + step.fields +
               (body.empty() ? "" : "Content-Length: 1\r\n") + "\r\n" + body);
    auto r = c.read_response(true, head);
    *statuses += std::to_string(r ? r->status : 0) + " ";
    asked.push_back(origin.asked(path) > before);
  }
  return asked;
}

std::string text(const std::vector<bool>& v) {
  std::string out;
  for (bool b : v) out += b ? "target " : "cache ";
  return out;
}

TEST(CacheReferenceTest, BallastAndVarnishServeTheSameFromCacheExceptWhereVarnishLeavesTheRfc) {
  if (!have_varnish()) GTEST_SKIP() << "varnishd is not installed (scripts/install-deps.sh)";
  const std::vector<Scenario> scenarios = {
      {"max-age", {{"GET /max-age"}, {"GET /max-age"}}, {true, false}, {}, ""},
      {"s-maxage wins over max-age in a shared cache",
       {{"GET /s-maxage"}, {"GET /s-maxage"}},
       {true, false},
       {},
       ""},
      {"Expires", {{"GET /expires"}, {"GET /expires"}}, {true, false}, {}, ""},
      {"no-store", {{"GET /no-store"}, {"GET /no-store"}}, {true, true}, {}, ""},
      {"private", {{"GET /private"}, {"GET /private"}}, {true, true}, {}, ""},
      {"Set-Cookie", {{"GET /set-cookie"}, {"GET /set-cookie"}}, {true, true}, {}, ""},
      {"Vary: *", {{"GET /vary-star"}, {"GET /vary-star"}}, {true, true}, {}, ""},
      {"no-cache is revalidated every time",
       {{"GET /no-cache-etag"}, {"GET /no-cache-etag"}},
       {true, true},
       {},
       ""},
      {"Vary selects variants",
       {{"GET /vary-lang", "Accept-Language: de\r\n"},
        {"GET /vary-lang", "Accept-Language: fr\r\n"},
        {"GET /vary-lang", "Accept-Language: de\r\n"}},
       {true, true, false},
       {},
       ""},
      {"Age beyond max-age: stale on arrival",
       {{"GET /age-past"}, {"GET /age-past"}},
       {true, true},
       {},
       ""},
      {"stale after max-age",
       {{"GET /short"}, {"GET /short"}, {"GET /short", "", 3200}},
       {true, false, true},
       {},
       ""},
      {"HEAD from a stored GET", {{"GET /head"}, {"HEAD /head"}}, {true, false}, {}, ""},
      {"404 with a lifetime", {{"GET /status-404"}, {"GET /status-404"}}, {true, false}, {}, ""},
      {"no lifetime, no validator: not stored",
       {{"GET /none"}, {"GET /none"}},
       {true, true},
       {},
       ""},
      {"the client's If-None-Match answered from the store",
       {{"GET /conditional"}, {"GET /conditional", "If-None-Match: \"c1\"\r\n"}},
       {true, false},
       {},
       ""},
      {"a Range answered from the store",
       {{"GET /range"}, {"GET /range", "Range: bytes=0-3\r\n"}},
       {true, false},
       {},
       ""},
      {"500 with explicit freshness",
       {{"GET /status-500"}, {"GET /status-500"}},
       {true, false},
       {true, true},
       "RFC 9111 3 lets a cache store any final status it understands when the response gives "
       "it a lifetime; Varnish stores only a fixed list of statuses"},
      {"a request with Authorization, the response stored before",
       {{"GET /authorization"}, {"GET /authorization", "Authorization: Basic YTpi\r\n"}},
       {true, false},
       {true, true},
       "RFC 9111 3.5 limits storing responses to requests with Authorization, not serving "
       "stored ones to them; Varnish's built-in VCL passes every such request"},
      {"the client's Cache-Control: no-cache",
       {{"GET /request-no-cache"}, {"GET /request-no-cache", "Cache-Control: no-cache\r\n"}},
       {true, true},
       {true, false},
       "RFC 9111 5.2.1.4: a stored response is not used without validation; Varnish ignores "
       "request directives"},
      {"a successful POST invalidates the URL",
       {{"GET /post"}, {"POST /post"}, {"GET /post"}},
       {true, true, true},
       {true, true, false},
       "RFC 9111 4.4: a cache invalidates the target URI after an unsafe request succeeds; "
       "Varnish passes POST and keeps the object"},
      {"a request with a cookie",
       {{"GET /cookie"}, {"GET /cookie", "Cookie: theme=dark\r\n"}},
       {true, false},
       {true, true},
       "nothing in RFC 9111 keeps a request with Cookie from a stored response (ballast keys on "
       "cookies only when the rule's key.cookies lists them); Varnish's built-in VCL passes every "
       "request with a Cookie"},
  };

  Origin for_ballast;
  Origin for_varnish;
  Ballast lb(
      "workers: 1\nlisteners:\n  - name: web\n    bind: 127.0.0.1:${PORT}\n    rules:\n"
      "      - forward: { target_group: app }\n        cache: true\n"
      "target_groups:\n  - name: app\n    targets: [ { address: " +
      loopback(for_ballast.port()) + " } ]\n");
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  Varnish varnish(for_varnish.port());
  ASSERT_TRUE(varnish.ready()) << varnish.log();

  int departures = 0;
  for (const Scenario& s : scenarios) {
    std::string ballast_statuses, varnish_statuses;
    std::vector<bool> b = run(s, lb.port(), for_ballast, &ballast_statuses);
    std::vector<bool> v = run(s, varnish.port(), for_varnish, &varnish_statuses);
    EXPECT_EQ(b, s.rfc) << s.name << ": ballast " << text(b) << "(" << ballast_statuses
                        << "), the RFC " << text(s.rfc);
    const std::vector<bool>& expected_varnish = s.varnish.empty() ? s.rfc : s.varnish;
    EXPECT_EQ(v, expected_varnish)
        << s.name << ": Varnish " << text(v) << "(" << varnish_statuses << "), expected "
        << text(expected_varnish) << (s.departure.empty() ? "(a new difference: examine it)" : "");
    EXPECT_EQ(ballast_statuses, varnish_statuses) << s.name;
    if (!s.varnish.empty()) ++departures;
  }
  EXPECT_EQ(departures, 5) << "docs/cache.md lists each departure";
}

}  // namespace
}  // namespace ballast::test
