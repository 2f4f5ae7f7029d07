// `ballast ctl`: the admin API from the command line.
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "app/admin_client.h"
#include "app/commands.h"
#include "app/ctl_autoscaling.h"
#include "app/ctl_db.h"
#include "app/ctl_upgrade.h"
#include "app/ctl_views.h"
#include "core/time_format.h"

namespace ballast::app {

using nlohmann::json;

namespace {

const char* kUsage =
    "usage: ballast ctl [--admin HOST:PORT] [--token TOKEN] [--json] ACTION [ARGS]\n"
    "actions:\n"
    "  status                          configuration file, generation, last reload\n"
    "  listeners                       listeners and their rules\n"
    "  certificates                    what each TLS listener serves; ACME renewals, errors\n"
    "  groups                          target groups with healthy counts\n"
    "  targets GROUP                   a group's targets: state, reason, weight\n"
    "  register GROUP ADDRESS [WEIGHT] add a target (IP:PORT)\n"
    "  deregister GROUP ADDRESS        drain a target, then remove it\n"
    "  weight GROUP ADDRESS N          set a target's weight\n"
    "  drain GROUP ADDRESS             stop sending it new requests\n"
    "  undrain GROUP ADDRESS           send it requests again\n"
    "  reload                          re-read the configuration file (as SIGHUP)\n"
    "  upgrade                         hand over to the binary now at ballast's path, with\n"
    "                                  no connection refused (as SIGUSR2); waits for it\n"
    "  alarms [NAME]                   alarm states (one alarm: with its history)\n"
    "  metrics METRIC [DIM=VALUE ...]  a series: --stat p99 --period 10s --since 15m\n"
    "  top [--iterations N]            live view: request rates, latency, targets\n"
    "  faults                          the rules' fault injection as it stands\n"
    "  fault ID delay MS PERCENT | abort STATUS PERCENT | reset PERCENT | off\n"
    "                                  change a fault until the next reload\n"
    "  cluster                         the cluster's nodes, the autoscaler's leader, etcd\n"
    "  db [NAME]                       databases: members' roles, lag, endpoints, role changes\n"
    "  db switchover NAME [--to MEMBER]\n"
    "                                  a planned switchover; new writer connections wait\n"
    "  cache                           the response cache: size, biggest and hottest objects\n"
    "  cache purge [url|prefix|tag] V  drop stored responses by URL (host/path?query, the\n"
    "                                  default), by URL prefix, or by Surrogate-Key/Cache-Tag\n";

using Call = CtlCall;

// Maps an action and its arguments to an API call; false (with `error`) when they do not fit.
bool make_call(const std::vector<std::string>& a, Call* call, std::string* error) {
  auto need = [&](size_t n, const char* form) {
    if (a.size() == n + 1) return true;
    *error = std::string("usage: ballast ctl ") + form;
    return false;
  };
  const std::string& action = a[0];
  if (auto done = autoscaling_call(a, call, error)) return *done;
  std::string base = "/api/v1/target-groups/";
  if (action == "status" || action == "listeners") {
    *call = {"GET", "/api/v1/" + action, ""};
    return need(0, action.c_str());
  }
  if (action == "certificates") {
    *call = {"GET", "/api/v1/certificates", ""};
    return need(0, "certificates");
  }
  if (action == "groups") {
    *call = {"GET", "/api/v1/target-groups", ""};
    return need(0, "groups");
  }
  if (action == "faults") {
    *call = {"GET", "/api/v1/faults", ""};
    return need(0, "faults");
  }
  if (action == "cluster") {
    *call = {"GET", "/api/v1/cluster", ""};
    return need(0, "cluster");
  }
  if (action == "fault") {
    *error =
        "usage: ballast ctl fault ID delay MS PERCENT | abort STATUS PERCENT | "
        "reset PERCENT | off";
    auto number = [](const std::string& text, double* out) {
      char* end = nullptr;
      *out = strtod(text.c_str(), &end);
      return !text.empty() && *end == '\0';
    };
    double x = 0, y = 0;
    json body;
    if (a.size() == 3 && a[2] == "off") {
      body = {
          {"delay", {{"percent", 0}}}, {"abort", {{"percent", 0}}}, {"reset", {{"percent", 0}}}};
    } else if (a.size() == 5 && a[2] == "delay" && number(a[3], &x) && number(a[4], &y)) {
      body = {{"delay", {{"duration_ms", static_cast<int64_t>(x)}, {"percent", y}}}};
    } else if (a.size() == 5 && a[2] == "abort" && number(a[3], &x) && number(a[4], &y)) {
      body = {{"abort", {{"status", static_cast<int64_t>(x)}, {"percent", y}}}};
    } else if (a.size() == 4 && a[2] == "reset" && number(a[3], &y)) {
      body = {{"reset", {{"percent", y}}}};
    } else {
      return false;
    }
    error->clear();
    *call = {"PUT", "/api/v1/faults/" + encode_segment(a[1]), body.dump()};
    return true;
  }
  if (action == "cache") {
    if (a.size() == 1) {
      *call = {"GET", "/api/v1/cache", ""};
      return true;
    }
    const char* form = "usage: ballast ctl cache purge [url|prefix|tag] VALUE";
    bool kind_named = a.size() == 4 && (a[2] == "url" || a[2] == "prefix" || a[2] == "tag");
    if (a[1] != "purge" || !(a.size() == 3 || kind_named)) {
      *error = form;
      return false;
    }
    json body = {{kind_named ? a[2] : "url", a.back()}};
    *call = {"POST", "/api/v1/cache/purge", body.dump()};
    return true;
  }
  if (action == "reload") {
    *call = {"POST", "/api/v1/reload", ""};
    return need(0, "reload");
  }
  if (action == "alarms") {
    if (a.size() > 2) {
      *error = "usage: ballast ctl alarms [NAME]";
      return false;
    }
    *call = {"GET", "/api/v1/alarms" + (a.size() == 2 ? "/" + encode_segment(a[1]) : ""), ""};
    return true;
  }
  if (action == "targets") {
    if (!need(1, "targets GROUP")) return false;
    *call = {"GET", base + encode_segment(a[1]), ""};
    return true;
  }
  if (action == "register") {
    if (a.size() != 3 && a.size() != 4) {
      *error = "usage: ballast ctl register GROUP ADDRESS [WEIGHT]";
      return false;
    }
    json body = {{"address", a[2]}};
    if (a.size() == 4) {
      char* end = nullptr;
      long w = strtol(a[3].c_str(), &end, 10);
      if (*end != '\0' || w < 0) {
        *error = "weight \"" + a[3] + "\" is not a whole number";
        return false;
      }
      body["weight"] = w;
    }
    *call = {"POST", base + encode_segment(a[1]) + "/targets", body.dump()};
    return true;
  }
  if (action == "deregister" || action == "drain" || action == "undrain") {
    if (!need(2, (action + " GROUP ADDRESS").c_str())) return false;
    std::string target = base + encode_segment(a[1]) + "/targets/" + encode_segment(a[2]);
    *call = action == "deregister" ? Call{"DELETE", target, ""}
                                   : Call{"POST", target + "/" + action, ""};
    return true;
  }
  if (action == "weight") {
    if (!need(3, "weight GROUP ADDRESS N")) return false;
    char* end = nullptr;
    long w = strtol(a[3].c_str(), &end, 10);
    if (*end != '\0' || w < 0) {
      *error = "weight \"" + a[3] + "\" is not a whole number";
      return false;
    }
    *call = {"PATCH", base + encode_segment(a[1]) + "/targets/" + encode_segment(a[2]),
             json{{"weight", w}}.dump()};
    return true;
  }
  *error = "unknown action \"" + action + "\"";
  return false;
}

void print_targets(const json& group) {
  printf("%-28s %-10s %7s  %s\n", "TARGET", "STATE", "WEIGHT", "DETAIL");
  for (const auto& t : group["targets"]) {
    std::string detail = t.value("reason", "");
    if (t.contains("detail") && !t["detail"].get<std::string>().empty())
      detail += ": " + t["detail"].get<std::string>();
    if (t.value("deregistering", false)) detail = "deregistering";
    printf("%-28s %-10s %7u  %s\n", t["address"].get<std::string>().c_str(),
           t["state"].get<std::string>().c_str(), t["weight"].get<unsigned>(), detail.c_str());
  }
}

void print_cache_objects(const char* title, const json& objects) {
  printf("\n%s\n%-48s %10s %8s %8s  %s\n", title, "URL", "BYTES", "HITS", "AGE", "VARIANT");
  for (const auto& o : objects) {
    std::string variant = o["variant"].get<std::string>();
    for (char& c : variant) c = c == '\n' ? ' ' : c;
    printf("%-48s %10llu %8llu %7llds  %s\n", o["url"].get<std::string>().c_str(),
           static_cast<unsigned long long>(o["bytes"].get<uint64_t>()),
           static_cast<unsigned long long>(o["hits"].get<uint64_t>()),
           static_cast<long long>(o["age_seconds"].get<int64_t>()), variant.c_str());
  }
}

void print_cache(const json& j) {
  if (!j.contains("objects")) {  // a purge's answer
    printf("purged %llu object(s)\n", static_cast<unsigned long long>(j["purged"].get<uint64_t>()));
    return;
  }
  if (!j["enabled"].get<bool>()) printf("no rule caches (add cache: to a forward rule)\n");
  printf("%llu object(s), %llu of %llu bytes; %llu evicted, %llu not admitted, %llu purged\n",
         static_cast<unsigned long long>(j["objects"].get<uint64_t>()),
         static_cast<unsigned long long>(j["bytes"].get<uint64_t>()),
         static_cast<unsigned long long>(j["capacity_bytes"].get<uint64_t>()),
         static_cast<unsigned long long>(j["evictions"].get<uint64_t>()),
         static_cast<unsigned long long>(j["not_admitted"].get<uint64_t>()),
         static_cast<unsigned long long>(j["purged"].get<uint64_t>()));
  print_cache_objects("BIGGEST", j["biggest"]);
  print_cache_objects("HOTTEST", j["hottest"]);
}

void print_cluster(const json& c) {
  if (!c["enabled"].get<bool>()) {
    printf("this node runs alone (no cluster: section in its file)\n");
    return;
  }
  const json& e = c["etcd"];
  const json& cfg = c["config"];
  printf("node %s, zone %s; etcd %s: %s\n", c["node"].get<std::string>().c_str(),
         c["zone"].get<std::string>().c_str(), e["endpoint"].get<std::string>().c_str(),
         e["reachable"].get<bool>() && e["watching"].get<bool>()
             ? "connected"
             : ("unreachable: " + e["last_error"].get<std::string>()).c_str());
  printf("configuration revision %lld, %lld s old%s%s\n",
         static_cast<long long>(cfg["revision"].get<int64_t>()),
         static_cast<long long>(cfg["age_seconds"].get<int64_t>()),
         cfg["rejected"].get<std::string>().empty() ? "" : "; rejected: ",
         cfg["rejected"].get<std::string>().c_str());
  std::string leader = c["leader"]["node"].get<std::string>();
  printf("\n%-16s %-6s %-16s %-22s %s\n", "NODE", "ZONE", "ADDRESS", "ADMIN", "ROLE");
  for (const auto& n : c["nodes"]) {
    std::string name = n["name"].get<std::string>();
    std::string role = name == leader ? "leader" : "follower";
    if (n.value("self", false)) role += " (this node)";
    printf("%-16s %-6s %-16s %-22s %s\n", name.c_str(), n.value("zone", "").c_str(),
           n.value("address", "").c_str(), n.value("admin", "").c_str(), role.c_str());
  }
}

void print_target_groups(const json& j) {
  printf("%-20s %-28s %9s  %s\n", "GROUP", "ALGORITHM", "HEALTHY", "NOTE");
  for (const auto& g : j["target_groups"]) {
    std::string healthy = std::to_string(g["healthy_count"].get<size_t>()) + "/" +
                          std::to_string(g["targets"].size());
    std::string note = !g["used"].get<bool>()          ? "unused (no rule forwards to it)"
                       : g["failing_open"].get<bool>() ? "no healthy target: routing to all"
                                                       : "";
    printf("%-20s %-28s %9s  %s\n", g["name"].get<std::string>().c_str(),
           g["algorithm"].get<std::string>().c_str(), healthy.c_str(), note.c_str());
  }
}

void print_alarm_history(const json& alarm) {
  printf("%s: %s since %s\n  %s\n", alarm["name"].get<std::string>().c_str(),
         alarm["state"].get<std::string>().c_str(), alarm["state_since"].get<std::string>().c_str(),
         alarm["reason"].get<std::string>().c_str());
  for (const auto& h : alarm["history"]) {
    printf("  %s  %s -> %s: %s\n", h["time"].get<std::string>().c_str(),
           h["from"].get<std::string>().c_str(), h["to"].get<std::string>().c_str(),
           h["reason"].get<std::string>().c_str());
  }
}

void print_alarms(const json& j) {
  // SCOPE: whose figures the state comes from ("cluster" on a cluster's leader).
  printf("%-24s %-10s %-18s %-8s %s\n", "ALARM", "TYPE", "STATE", "SCOPE", "SINCE");
  for (const auto& a : j["alarms"]) {
    printf("%-24s %-10s %-18s %-8s %s\n", a["name"].get<std::string>().c_str(),
           a["type"].get<std::string>().c_str(), a["state"].get<std::string>().c_str(),
           a.value("scope", "node").c_str(), a["state_since"].get<std::string>().c_str());
  }
}

void print_certificates(const json& j) {
  printf("%-16s %-20s %-34s %s\n", "LISTENER", "EXPIRES", "NAMES", "FILE");
  for (const auto& l : j["listeners"]) {
    for (const auto& c : l["certificates"]) {
      std::string names;
      for (const auto& n : c["names"]) names += (names.empty() ? "" : ",") + n.get<std::string>();
      printf("%-16s %-20s %-34s %s%s\n", l["listener"].get<std::string>().c_str(),
             core::iso8601_utc(c["not_after"].get<int64_t>()).c_str(), names.c_str(),
             c["file"].get<std::string>().c_str(), c["default"].get<bool>() ? " (default)" : "");
    }
    if (!l.contains("acme")) continue;
    const json& a = l["acme"];
    printf("  ACME %s: next attempt %s", a["directory"].get<std::string>().c_str(),
           core::iso8601_utc(a["next_attempt"].get<int64_t>()).c_str());
    if (a["consecutive_failures"].get<int>() > 0) {
      printf(", %d failure(s) in a row: %s", a["consecutive_failures"].get<int>(),
             a["last_error"].get<std::string>().c_str());
    }
    printf("\n");
  }
}

// Human-readable output for the read actions; mutations print the API's short answer.
void print_reply(const std::string& action, const json& j) {
  if (print_autoscaling_reply(action, j)) return;
  if (action == "alarms") {
    if (j.contains("alarms")) {
      print_alarms(j);
    } else {
      print_alarm_history(j);
    }
  } else if (action == "groups") {
    print_target_groups(j);
  } else if (action == "certificates") {
    print_certificates(j);
  } else if (action == "targets") {
    print_targets(j);
  } else if (action == "cache") {
    print_cache(j);
  } else if (action == "cluster") {
    print_cluster(j);
  } else {
    printf("%s\n", j.dump(2).c_str());
  }
}

}  // namespace

int ctl_command(const CtlOptions& options) {
  if (options.args.empty()) {
    fputs(kUsage, stderr);
    fputs(kAutoscalingUsage, stderr);
    return 2;
  }
  std::string admin = options.admin;
  if (admin.empty() && getenv("BALLAST_ADMIN") != nullptr) admin = getenv("BALLAST_ADMIN");
  if (admin.empty()) admin = "127.0.0.1:9901";
  std::string token = options.token;
  if (token.empty() && getenv("BALLAST_TOKEN") != nullptr) token = getenv("BALLAST_TOKEN");
  if (options.args[0] == "top") return ctl_top(AdminEndpoint{admin, token}, options.iterations);
  if (options.args[0] == "metrics") return ctl_metrics(AdminEndpoint{admin, token}, options);
  if (options.args[0] == "upgrade") return ctl_upgrade(AdminEndpoint{admin, token});
  if (options.args[0] == "db")
    return ctl_db(AdminEndpoint{admin, token}, options.args, options.json, options.to);
  Call call;
  std::string error;
  if (!make_call(options.args, &call, &error)) {
    fprintf(stderr, "%s\n%s%s", error.c_str(), kUsage, kAutoscalingUsage);
    return 2;
  }
  auto reply = admin_request(admin, token, call.method, call.path, call.body, &error);
  if (!reply) {
    fprintf(stderr, "ballast ctl: %s\n", error.c_str());
    return 1;
  }
  json j = json::parse(reply->body, nullptr, false);
  if (reply->status >= 300) {
    std::string message =
        j.is_object() && j.contains("error") ? j["error"].get<std::string>() : reply->body;
    fprintf(stderr, "ballast ctl: %d: %s\n", reply->status, message.c_str());
    if (j.is_object() && j.contains("errors")) {
      for (const auto& e : j["errors"]) fprintf(stderr, "  %s\n", e.get<std::string>().c_str());
    }
    return 1;
  }
  if (options.json || j.is_discarded()) {
    printf("%s\n", j.is_discarded() ? reply->body.c_str() : j.dump(2).c_str());
  } else {
    print_reply(options.args[0], j);
  }
  return 0;
}

}  // namespace ballast::app
