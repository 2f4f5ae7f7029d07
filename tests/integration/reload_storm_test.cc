// Reload storm: a few hundred random valid configurations (listeners, rules and groups
// added, removed, renamed, reordered) applied one after another under constant load. After
// each, ballast must be alive; at the end, every answer must have come from a group that
// the matching rule named in a configuration in effect while the request was in flight,
// and no request may have failed unless its listener was absent from such a configuration.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "core/thread_annotations.h"
#include "support/http_client.h"
#include "support/load_loop.h"
#include "support/test_env.h"

namespace ballast::test {
namespace {

constexpr int kBackends = 6;
constexpr int kListenerPorts = 3;
const char* const kPaths[] = {"/p0", "/p1", "/p2", "/other"};

struct RuleModel {
  std::string prefix;               // empty: matches every path
  std::vector<std::string> groups;  // forward to these (weighted when several)
};
struct ListenerModel {
  std::string name;
  int port = 0;  // index into the test's listener ports
  std::vector<RuleModel> rules;
};
struct GroupModel {
  std::string name;
  std::vector<int> backends;
};
// One configuration, in a form the checker can reason about.
struct ConfigModel {
  std::vector<ListenerModel> listeners;
  std::vector<GroupModel> groups;

  const ListenerModel* listener_on(int port) const {
    for (const auto& l : listeners) {
      if (l.port == port) return &l;
    }
    return nullptr;
  }
  // The groups the first rule of `l` that matches `path` forwards to; nullopt when none
  // matches.
  static std::optional<std::vector<std::string>> groups_for(const ListenerModel& l,
                                                            const std::string& path) {
    for (const auto& r : l.rules) {
      if (path.starts_with(r.prefix)) return r.groups;
    }
    return std::nullopt;
  }
  bool group_has(const std::string& name, const std::string& instance) const {
    for (const auto& g : groups) {
      if (g.name != name) continue;
      for (int b : g.backends) {
        if (instance == "b" + std::to_string(b)) return true;
      }
    }
    return false;
  }
};

ConfigModel random_config(std::mt19937& rng, int generation) {
  auto below = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  const char* const kNames[] = {"blue", "green", "red", "gold", "teal", "plum"};
  ConfigModel c;
  // Groups: a partition of the backends, so an answer's instance names exactly one group.
  std::vector<int> backends(kBackends);
  for (int i = 0; i < kBackends; ++i) backends[static_cast<size_t>(i)] = i;
  std::shuffle(backends.begin(), backends.end(), rng);
  int group_count = 1 + below(4);
  std::vector<std::string> names(std::begin(kNames), std::end(kNames));
  std::shuffle(names.begin(), names.end(), rng);
  for (int g = 0; g < group_count; ++g) {
    // Sometimes renamed: a new name for a group is a new group to ballast.
    std::string name = names[static_cast<size_t>(g)];
    if (below(3) == 0) name += "-" + std::to_string(generation);
    c.groups.push_back({name, {backends[static_cast<size_t>(g)]}});
  }
  for (int b = group_count; b < kBackends; ++b) {
    if (below(2) == 0)
      c.groups[static_cast<size_t>(below(group_count))].backends.push_back(
          backends[static_cast<size_t>(b)]);
  }
  // Listeners: a non-empty subset of the ports, in any order, with any name.
  std::vector<int> ports(kListenerPorts);
  for (int i = 0; i < kListenerPorts; ++i) ports[static_cast<size_t>(i)] = i;
  std::shuffle(ports.begin(), ports.end(), rng);
  int listener_count = 1 + below(kListenerPorts);
  for (int i = 0; i < listener_count; ++i) {
    ListenerModel l;
    l.port = ports[static_cast<size_t>(i)];
    l.name = "l" + std::to_string(l.port) + (below(2) == 0 ? "-" + std::to_string(generation) : "");
    std::vector<std::string> prefixes = {"/p0", "/p1", "/p2"};
    std::shuffle(prefixes.begin(), prefixes.end(), rng);
    int rule_count = below(4);
    for (int r = 0; r < rule_count; ++r) {
      RuleModel rule{prefixes[static_cast<size_t>(r)], {}};
      rule.groups.push_back(c.groups[static_cast<size_t>(below(group_count))].name);
      if (group_count > 1 && below(3) == 0) {
        std::string other = c.groups[static_cast<size_t>(below(group_count))].name;
        if (other != rule.groups[0]) rule.groups.push_back(other);
      }
      l.rules.push_back(rule);
    }
    if (l.rules.empty() || below(3) != 0) {
      l.rules.push_back({"", {c.groups[static_cast<size_t>(below(group_count))].name}});
    }
    c.listeners.push_back(l);
  }
  return c;
}

std::string render(const ConfigModel& c, const std::vector<uint16_t>& ports,
                   const std::vector<uint16_t>& backends) {
  std::string y = "workers: 2\nlisteners:\n";
  for (const auto& l : c.listeners) {
    y += "  - name: " + l.name +
         "\n    bind: 127.0.0.1:" + std::to_string(ports[static_cast<size_t>(l.port)]) +
         "\n    rules:" + (l.rules.empty() ? " []\n" : "\n");
    for (const auto& r : l.rules) {
      y += "      - ";
      if (!r.prefix.empty()) y += "match: { path_prefix: " + r.prefix + " }\n        ";
      y += "forward: ";
      if (r.groups.size() == 1) {
        y += "{ target_group: " + r.groups[0] + " }\n";
      } else {
        y += "[";
        for (size_t i = 0; i < r.groups.size(); ++i) {
          y += (i ? ", " : "") + std::string("{ target_group: ") + r.groups[i] + ", weight: 1 }";
        }
        y += "]\n";
      }
    }
  }
  y += "target_groups:\n";
  for (const auto& g : c.groups) {
    y += "  - name: " + g.name + "\n    targets:\n";
    for (int b : g.backends) {
      y += "      - { address: " + loopback(backends[static_cast<size_t>(b)]) + " }\n";
    }
  }
  return y;
}

// One request as the client saw it, with the configurations that may have served it:
// from the newest one fully in effect when it was sent to the newest one begun when its
// answer (or failure) arrived.
struct Outcome {
  int port = 0;
  std::string path;
  int lo = 0;
  int hi = 0;
  enum class Kind { kAnswered, kRefused, kClosed } kind = Kind::kAnswered;
  int status = 0;
  std::string instance;
};

class Storm {
 public:
  Storm(std::vector<uint16_t> ports) : ports_(std::move(ports)) {}

  std::atomic<int> begun{0};    // index of the newest configuration a reload has begun
  std::atomic<int> applied{0};  // index of the newest one every worker runs
  std::atomic<bool> stop{false};
  std::atomic<int> retried{0};  // reused connections the server had closed: sent again

  void run_client(unsigned seed) {
    std::mt19937 rng(seed);
    std::vector<std::unique_ptr<Client>> conns(kListenerPorts);
    std::vector<Outcome> mine;
    for (int i = 0; i < 200000 && !stop.load(); ++i) {
      int port = static_cast<int>(rng() % kListenerPorts);
      std::string path = kPaths[rng() % 4];
      mine.push_back(send(conns[static_cast<size_t>(port)], port, path));
    }
    core::MutexLock lock(mu_);
    outcomes_.insert(outcomes_.end(), mine.begin(), mine.end());
  }

  std::vector<Outcome> outcomes() {
    core::MutexLock lock(mu_);
    return outcomes_;
  }

 private:
  Outcome send(std::unique_ptr<Client>& conn, int port, const std::string& path) {
    Outcome o;
    o.port = port;
    o.path = path;
    o.lo = applied.load();
    bool reused = conn && conn->connected();
    if (!reused) conn = std::make_unique<Client>(ports_[static_cast<size_t>(port)], 5000);
    if (!conn->connected()) {
      conn.reset();
      o.kind = Outcome::Kind::kRefused;
      o.hi = begun.load();
      return o;
    }
    uint64_t before = conn->bytes_received();
    std::optional<Response> r;
    if (conn->send_raw("GET " + path + " HTTP/1.1\r\nHost: storm\r\n\r\n"))
      r = conn->read_response();
    if (!r && reused && conn->bytes_received() == before) {
      // The server closed the idle connection as we reused it (RFC 9112 9.3.1): nothing
      // was processed, so a GET goes again on a new connection, judged on its own.
      retried++;
      conn.reset();
      return send(conn, port, path);
    }
    o.hi = begun.load();
    if (!r) {
      conn.reset();
      o.kind = Outcome::Kind::kClosed;
      return o;
    }
    o.status = r->status;
    o.instance = r->header("x-ballast-instance");
    if (r->header("connection") == "close") conn.reset();
    return o;
  }

  std::vector<uint16_t> ports_;
  core::Mutex mu_;
  std::vector<Outcome> outcomes_ GUARDED_BY(mu_);
};

// Whether the configurations in effect during `o` explain it. A request routes by the
// rules of one configuration in its window (the one its connection held when its head
// arrived); the group it names is found by name, with the targets that group had then: those
// of that configuration or of a later one in the window (a group that two configurations
// share by name is one group, whose membership each reload updates).
bool explained(const std::vector<ConfigModel>& models, const Outcome& o) {
  for (int i = o.lo; i <= o.hi; ++i) {
    const ConfigModel& c = models[static_cast<size_t>(i)];
    const ListenerModel* l = c.listener_on(o.port);
    if (l == nullptr) {
      if (o.kind != Outcome::Kind::kAnswered) return true;  // its listener was going
      continue;
    }
    if (o.kind != Outcome::Kind::kAnswered) continue;
    std::optional<std::vector<std::string>> groups = ConfigModel::groups_for(*l, o.path);
    if (!groups) {
      if (o.status == 404 && o.instance.empty()) return true;  // ballast: no rule matched
      continue;
    }
    for (int j = i; j <= o.hi; ++j) {
      for (const auto& name : *groups) {
        // Whatever the instance answered to the path: 200 or its own 404.
        if (models[static_cast<size_t>(j)].group_has(name, o.instance)) return true;
      }
    }
  }
  return false;
}

std::string describe(const Outcome& o) {
  const char* kinds[] = {"answered", "refused", "closed unanswered"};
  return "port " + std::to_string(o.port) + " " + o.path + ": " + kinds[static_cast<int>(o.kind)] +
         (o.kind == Outcome::Kind::kAnswered
              ? " " + std::to_string(o.status) + " by \"" + o.instance + "\""
              : "") +
         " (configurations " + std::to_string(o.lo) + ".." + std::to_string(o.hi) + ")";
}

TEST(ReloadStormTest, HundredsOfRandomConfigurationsUnderLoad) {
  const char* seed_text = std::getenv("BALLAST_STORM_SEED");
  unsigned seed = seed_text != nullptr ? static_cast<unsigned>(std::atoi(seed_text)) : 20261201;
  constexpr int kReloads = 300;
  std::mt19937 rng(seed);
  std::vector<std::unique_ptr<DemoBackend>> backends;
  std::vector<uint16_t> backend_ports;
  for (int b = 0; b < kBackends; ++b) {
    backends.push_back(std::make_unique<DemoBackend>("b" + std::to_string(b)));
    backend_ports.push_back(backends.back()->port());
  }
  // Port 0 is the harness's ${PORT}, so that ready() can wait for it.
  std::vector<uint16_t> ports = {0, free_port(), free_port()};
  std::vector<ConfigModel> models = {random_config(rng, 0)};
  models[0].listeners = {ListenerModel{"first", 0, {{"", {models[0].groups[0].name}}}}};
  auto render_for = [&](const ConfigModel& c) {
    return replace_all(render(c, ports, backend_ports), "127.0.0.1:0\n", "127.0.0.1:${PORT}\n");
  };
  Ballast lb(render_for(models[0]));
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  ports[0] = lb.port();

  Storm storm(ports);
  std::vector<std::thread> clients;
  // The clients stop and are joined however the test ends.
  struct JoinAtExit {
    Storm& storm;
    std::vector<std::thread>& threads;
    ~JoinAtExit() {
      storm.stop = true;
      for (auto& t : threads) {
        if (t.joinable()) t.join();
      }
    }
  } join_at_exit{storm, clients};
  for (unsigned t = 0; t < 3; ++t) clients.emplace_back([&, t] { storm.run_client(seed + t); });
  for (int i = 1; i <= kReloads; ++i) {
    models.push_back(random_config(rng, i));
    lb.rewrite_config(render_for(models.back()));
    storm.begun = i;
    AdminAnswer r = admin_call(lb.admin_port(), "POST", "/api/v1/reload");
    ASSERT_EQ(r.status, 200) << "reload " << i << ": " << r.body << "\n" << lb.process().log();
    storm.applied = i;
    ASSERT_TRUE(lb.process().running()) << "after reload " << i << "\n" << lb.process().log();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  storm.stop = true;
  for (auto& t : clients) t.join();
  ASSERT_TRUE(lb.process().running()) << lb.process().log();

  std::vector<Outcome> outcomes = storm.outcomes();
  std::map<std::string, int> counts;
  int unexplained = 0;
  for (const auto& o : outcomes) {
    bool ok = explained(models, o);
    const char* kinds[] = {"answered", "refused", "closed unanswered"};
    counts[kinds[static_cast<int>(o.kind)]]++;
    if (!ok && ++unexplained <= 3) {
      std::string configs;
      for (int g = o.lo; g <= o.hi; ++g) {
        configs += "configuration " + std::to_string(g) + ":\n" +
                   render(models[static_cast<size_t>(g)], ports, backend_ports);
      }
      ADD_FAILURE() << "not explained by any configuration: " << describe(o) << "\n" << configs;
    }
  }
  std::string instances;
  for (int b = 0; b < kBackends; ++b) {
    instances += " b" + std::to_string(b) + "=" + loopback(backend_ports[static_cast<size_t>(b)]);
  }
  EXPECT_EQ(unexplained, 0) << "seed " << seed << "; instances:" << instances;
  EXPECT_GT(counts["answered"], 3000) << "the load ran throughout";
  std::cout << "reload storm: " << kReloads << " configurations, " << outcomes.size()
            << " requests " << ::testing::PrintToString(counts) << ", " << storm.retried.load()
            << " resent after the server closed an idle connection (seed " << seed << ")\n";
}

}  // namespace
}  // namespace ballast::test
