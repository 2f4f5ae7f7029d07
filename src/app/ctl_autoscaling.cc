#include "app/ctl_autoscaling.h"

#include <cstdio>
#include <cstdlib>

#include "app/admin_client.h"

namespace ballast::app {

using nlohmann::json;

const char* kAutoscalingUsage =
    "  asgs                            autoscaling groups: desired, in service, pending\n"
    "  instances GROUP                 a group's instances and its policies\n"
    "  scale GROUP N                   set a group's desired capacity\n"
    "  activities GROUP                launches and terminations, newest first, with causes\n"
    "  protect GROUP INSTANCE          keep an instance out of scale-in (unprotect undoes)\n"
    "  refresh GROUP                   replace every instance in rolling batches\n"
    "  cancel-refresh GROUP            stop a refresh in progress\n";

std::optional<bool> autoscaling_call(const std::vector<std::string>& a, CtlCall* call,
                                     std::string* error) {
  const std::string& action = a[0];
  auto need = [&](size_t n, const char* form) {
    if (a.size() == n + 1) return true;
    *error = std::string("usage: ballast ctl ") + form;
    return false;
  };
  std::string base = "/api/v1/autoscaling-groups";
  if (action == "asgs") {
    *call = {"GET", base, ""};
    return need(0, "asgs");
  }
  if (action == "instances") {
    if (!need(1, "instances GROUP")) return false;
    *call = {"GET", base + "/" + encode_segment(a[1]), ""};
    return true;
  }
  if (action == "activities") {
    if (!need(1, "activities GROUP")) return false;
    *call = {"GET", base + "/" + encode_segment(a[1]) + "/activities", ""};
    return true;
  }
  if (action == "scale") {
    if (!need(2, "scale GROUP N")) return false;
    char* end = nullptr;
    long n = strtol(a[2].c_str(), &end, 10);
    if (a[2].empty() || *end != '\0' || n < 0) {
      *error = "capacity \"" + a[2] + "\" is not a whole number";
      return false;
    }
    *call = {"PUT", base + "/" + encode_segment(a[1]) + "/desired",
             json{{"desired_capacity", n}}.dump()};
    return true;
  }
  if (action == "protect" || action == "unprotect") {
    if (!need(2, (action + " GROUP INSTANCE").c_str())) return false;
    *call = {
        "POST",
        base + "/" + encode_segment(a[1]) + "/instances/" + encode_segment(a[2]) + "/" + action,
        ""};
    return true;
  }
  if (action == "refresh" || action == "cancel-refresh") {
    if (!need(1, (action + " GROUP").c_str())) return false;
    *call = {action == "refresh" ? "POST" : "DELETE",
             base + "/" + encode_segment(a[1]) + "/refresh", ""};
    return true;
  }
  return std::nullopt;
}

namespace {

std::string text(const json& v) {
  if (v.is_null()) return "-";
  if (v.is_string()) return v.get<std::string>();
  return v.dump();
}

void print_autoscaling_groups(const json& j) {
  printf("%-20s %-16s %8s %8s %8s %8s %8s  %s\n", "GROUP", "TARGET GROUP", "MIN", "DESIRED", "MAX",
         "SERVING", "PENDING", "NOTE");
  for (const auto& g : j["autoscaling_groups"]) {
    std::string note = g["launch_problem"].is_null() ? "" : text(g["launch_problem"]);
    if (g.contains("impaired_zones") && !g["impaired_zones"].empty()) {
      std::string zones;
      for (const auto& z : g["impaired_zones"])
        zones += (zones.empty() ? "" : ",") + text(z["zone"]);
      note = "avoiding zone " + zones + (note.empty() ? "" : "; " + note);
    }
    if (!g["instance_refresh"].is_null() && g["instance_refresh"]["status"] == "InProgress") {
      note = "refresh " + text(g["instance_refresh"]["percentage_complete"]) + "% " + note;
    }
    printf("%-20s %-16s %8d %8d %8d %8d %8d  %s\n", text(g["name"]).c_str(),
           text(g["target_group"]).c_str(), g["min_size"].get<int>(),
           g["desired_capacity"].get<int>(), g["max_size"].get<int>(), g["in_service"].get<int>(),
           g["pending"].get<int>(), note.c_str());
  }
}

void print_instances(const json& g) {
  printf("%s: desired %d (min %d, max %d), %d in service, %d pending, %d terminating\n",
         text(g["name"]).c_str(), g["desired_capacity"].get<int>(), g["min_size"].get<int>(),
         g["max_size"].get<int>(), g["in_service"].get<int>(), g["pending"].get<int>(),
         g["terminating"].get<int>());
  if (!g["launch_problem"].is_null())
    printf("launches failing: %s\n", text(g["launch_problem"]).c_str());
  if (g.contains("impaired_zones")) {
    for (const auto& z : g["impaired_zones"]) {
      printf("zone %s avoided for %ss more (%s failure(s) in a row): %s\n", text(z["zone"]).c_str(),
             text(z["seconds_left"]).c_str(), text(z["failures"]).c_str(), text(z["why"]).c_str());
    }
  }
  printf("%-16s %-16s %-6s %-22s %6s  %s\n", "INSTANCE", "STATE", "ZONE", "ADDRESS", "CPU%",
         "NOTE");
  for (const auto& i : g["instances"]) {
    std::string note = i.value("protected_from_scale_in", false) ? "protected" : "";
    if (i.value("warming_up", false)) note += note.empty() ? "warming up" : ", warming up";
    if (i.contains("replacing")) note += (note.empty() ? "" : ", ") + text(i["replacing"]);
    char cpu[16] = "-";
    if (i.contains("cpu_percent"))
      snprintf(cpu, sizeof(cpu), "%.1f", i["cpu_percent"].get<double>());
    printf("%-16s %-16s %-6s %-22s %6s  %s\n", text(i["instance_id"]).c_str(),
           text(i["state"]).c_str(), text(i["zone"]).c_str(), text(i["address"]).c_str(), cpu,
           note.c_str());
  }
  printf("%-20s %-16s %10s %8s  %s\n", "POLICY", "TYPE", "METRIC", "WANTS", "NOTE");
  for (const auto& p : g["policies"]) {
    std::string metric = "-";
    if (p["metric"].is_number()) {
      char buf[32];
      snprintf(buf, sizeof(buf), "%.4g", p["metric"].get<double>());
      metric = buf;
    }
    printf("%-20s %-16s %10s %8s  %s\n", text(p["name"]).c_str(), text(p["type"]).c_str(),
           metric.c_str(), text(p["recommendation"]).c_str(), p.value("note", "").c_str());
  }
}

void print_activities(const json& j) {
  for (const auto& a : j["activities"]) {
    printf("%s  %-10s %s\n    cause: %s\n", text(a["start_time"]).c_str(),
           text(a["status"]).c_str(), text(a["description"]).c_str(), text(a["cause"]).c_str());
    if (a.contains("detail")) printf("    detail: %s\n", text(a["detail"]).c_str());
  }
}

}  // namespace

bool print_autoscaling_reply(const std::string& action, const json& j) {
  if (action == "asgs") {
    print_autoscaling_groups(j);
  } else if (action == "instances") {
    print_instances(j);
  } else if (action == "activities") {
    print_activities(j);
  } else {
    return false;
  }
  return true;
}

}  // namespace ballast::app
