#include "app/ctl_db.h"

#include <chrono>
#include <cstdio>
#include <thread>

#include "core/time_format.h"

namespace ballast::app {

using nlohmann::json;

namespace {

const char* kDbUsage =
    "usage: ballast ctl db [NAME]\n"
    "       ballast ctl db switchover NAME [--to MEMBER]\n";

std::string lag_text(const json& m) {
  if (m.value("role", "") != "replica") return "-";
  char buf[64];
  snprintf(buf, sizeof(buf), "%llu B, %.1f s",
           static_cast<unsigned long long>(m.value("lag_bytes", uint64_t{0})),
           m.value("lag_seconds", 0.0));
  return buf;
}

// relay: nat: where the writer's rule sends new connections, or why there is none.
void print_nat(const json& writer) {
  if (!writer.contains("nat")) return;
  const json& nat = writer["nat"];
  if (nat.value("steering", false)) {
    printf(" [nat: to %s without ballast, %llu connections]", nat.value("primary", "").c_str(),
           static_cast<unsigned long long>(nat.value("connections", uint64_t{0})));
  } else {
    printf(" [nat: through ballast: %s]", nat.value("why", "").c_str());
  }
}

void print_database(const json& d) {
  printf("%s (Patroni scope %s): primary %s", d.value("name", "").c_str(),
         d.value("scope", "").c_str(),
         d.value("primary", "").empty() ? "none confirmed" : d.value("primary", "").c_str());
  printf("; writer %s (%lld open)", d["writer"].value("bind", "").c_str(),
         static_cast<long long>(d["writer"].value("active_connections", int64_t{0})));
  print_nat(d["writer"]);
  if (d.contains("reader")) {
    printf(", reader %s (%lld open)", d["reader"].value("bind", "").c_str(),
           static_cast<long long>(d["reader"].value("active_connections", int64_t{0})));
  }
  printf("\n%-10s %-22s %-9s %-9s %-4s %-18s %-9s %s\n", "MEMBER", "ADDRESS", "ROLE", "STATE", "TL",
         "LAG", "WRITER", "READER");
  for (const auto& m : d["members"]) {
    std::string reader = m["reader"].value("state", "");
    if (m["reader"].value("reason", "none") != "none") {
      reader += " (" + m["reader"].value("detail", "") + ")";
    }
    printf("%-10s %-22s %-9s %-9s %-4llu %-18s %-9s %s\n", m.value("name", "").c_str(),
           m.value("address", "").c_str(), m.value("role", "").c_str(),
           m.value("state", "").empty() ? "-" : m.value("state", "").c_str(),
           static_cast<unsigned long long>(m.value("timeline", uint64_t{0})), lag_text(m).c_str(),
           m["writer"].value("state", "").c_str(), reader.c_str());
    if (m.contains("error")) printf("           %s\n", m.value("error", "").c_str());
  }
  const json& acts = d["activities"];
  size_t first = acts.size() > 5 ? acts.size() - 5 : 0;
  for (size_t i = first; i < acts.size(); ++i) {
    printf("  %s  %-10s %s\n",
           core::iso8601_utc(acts[i].value("time_unix_ms", int64_t{0}) / 1000).c_str(),
           acts[i].value("cause", "").c_str(), acts[i].value("description", "").c_str());
  }
}

int list(const AdminEndpoint& api, const std::vector<std::string>& args, bool as_json) {
  std::string error;
  std::string path =
      args.size() == 2 ? "/api/v1/databases/" + encode_segment(args[1]) : "/api/v1/databases";
  auto j = admin_get_json(api, path, &error);
  if (!j) {
    fprintf(stderr, "ballast ctl: %s\n", error.c_str());
    return 1;
  }
  if (as_json) {
    printf("%s\n", j->dump(2).c_str());
    return 0;
  }
  if (args.size() == 2) {
    print_database(*j);
    return 0;
  }
  if ((*j)["databases"].empty()) printf("no databases: section in the configuration\n");
  for (const auto& d : (*j)["databases"]) print_database(d);
  return 0;
}

int switchover(const AdminEndpoint& api, const std::string& name, const std::string& to) {
  std::string error;
  json body = json::object();
  if (!to.empty()) body["to"] = to;
  auto reply = admin_request(api.address, api.token, "POST",
                             "/api/v1/databases/" + encode_segment(name) + "/switchover",
                             body.dump(), &error);
  if (!reply) {
    fprintf(stderr, "ballast ctl: %s\n", error.c_str());
    return 1;
  }
  json started = json::parse(reply->body, nullptr, false);
  if (reply->status != 202) {
    std::string message = started.is_object() && started.contains("error")
                              ? started["error"].get<std::string>()
                              : reply->body;
    fprintf(stderr, "ballast ctl: switchover refused: %s\n", message.c_str());
    return 1;
  }
  printf("switchover: from %s%s; new writer connections wait\n",
         started["switchover"].value("from", "").c_str(), to.empty() ? "" : (" to " + to).c_str());
  for (int i = 0; i < 300; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    auto d = admin_get_json(api, "/api/v1/databases/" + encode_segment(name), &error);
    if (!d) continue;
    const json& s = (*d)["switchover"];
    std::string phase = s.value("phase", "");
    if (phase == "done") {
      std::string message = s.value("message", "");
      printf("switchover: the writer follows %s%s\n", d->value("primary", "").c_str(),
             message.empty() ? "" : (" (" + message + ")").c_str());
      return 0;
    }
    if (phase == "failed") {
      fprintf(stderr, "ballast ctl: switchover failed: %s\n", s.value("message", "").c_str());
      return 1;
    }
  }
  fprintf(stderr, "ballast ctl: no answer within 60 s; see ballast ctl db %s\n", name.c_str());
  return 1;
}

}  // namespace

int ctl_db(const AdminEndpoint& api, const std::vector<std::string>& args, bool as_json,
           const std::string& to) {
  if (args.size() >= 2 && args[1] == "switchover") {
    if (args.size() == 3) return switchover(api, args[2], to);
    fputs(kDbUsage, stderr);
    return 2;
  }
  if (args.size() > 2) {
    fputs(kDbUsage, stderr);
    return 2;
  }
  return list(api, args, as_json);
}

}  // namespace ballast::app
