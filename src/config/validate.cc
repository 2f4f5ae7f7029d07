#include "config/validate.h"

#include <functional>
#include <map>
#include <string_view>

#include "http/headers.h"

namespace ballast::config {

namespace {
std::string listener_path(size_t i) {
  return "listeners[" + std::to_string(i) + "]";
}
std::string group_path(size_t i) {
  return "target_groups[" + std::to_string(i) + "]";
}

void check_unique_names(const Config& config, ErrorList& errors) {
  std::map<std::string, size_t> seen;
  for (size_t i = 0; i < config.listeners.size(); ++i) {
    const auto& l = config.listeners[i];
    if (l.name.empty()) continue;  // already reported as missing
    auto [it, fresh] = seen.emplace(l.name, i);
    if (!fresh) {
      errors.add(l.location, listener_path(i) + ".name",
                 "duplicate listener name \"" + l.name + "\" (also used by " +
                     listener_path(it->second) + ")");
    }
  }
  seen.clear();
  for (size_t i = 0; i < config.target_groups.size(); ++i) {
    const auto& g = config.target_groups[i];
    auto [it, fresh] = seen.emplace(g.name, i);
    if (!fresh && !g.name.empty()) {
      errors.add(g.location, group_path(i) + ".name",
                 "duplicate target group name \"" + g.name + "\" (also used by " +
                     group_path(it->second) + ")");
    }
    for (size_t a = 0; a < g.targets.size(); ++a) {
      for (size_t b = 0; b < a; ++b) {
        if (g.targets[a].address.length() != 0 && g.targets[a].address == g.targets[b].address) {
          errors.add(g.targets[a].location,
                     group_path(i) + ".targets[" + std::to_string(a) + "].address",
                     "target " + g.targets[a].address_text + " is listed twice (also targets[" +
                         std::to_string(b) + "])");
        }
      }
    }
  }
}

void resolve_rules(Config& config, ErrorList& errors) {
  std::vector<std::string_view> names;
  for (const auto& g : config.target_groups) names.push_back(g.name);
  for (size_t i = 0; i < config.listeners.size(); ++i) {
    for (auto& rule : config.listeners[i].rules) {
      for (auto& to : rule.forward) {
        if (to.target_group.empty()) continue;  // already reported as missing
        bool found = false;
        for (size_t g = 0; g < config.target_groups.size(); ++g) {
          if (config.target_groups[g].name == to.target_group) {
            to.target_group_index = g;
            found = true;
            break;
          }
        }
        if (!found) {
          std::string message = "target group \"" + to.target_group + "\" does not exist";
          std::string hint = closest_match(to.target_group, names);
          if (!hint.empty()) message += "; did you mean \"" + hint + "\"?";
          errors.add(to.location, to.path, message);
        }
      }
    }
  }
}

// Two listeners conflict when they use the same port on the same address, or when
// either binds every address (0.0.0.0 / [::]).
void check_ports(const Config& config, ErrorList& errors) {
  for (size_t a = 0; a < config.listeners.size(); ++a) {
    for (size_t b = 0; b < a; ++b) {
      const auto& la = config.listeners[a];
      const auto& lb = config.listeners[b];
      if (la.bind.port() == 0 || la.bind.port() != lb.bind.port()) continue;
      if (la.bind == lb.bind || la.bind.is_wildcard() || lb.bind.is_wildcard()) {
        errors.add(la.bind_location, listener_path(a) + ".bind",
                   "port " + std::to_string(la.bind.port()) + " is already used by listener \"" +
                       lb.name + "\" (" + lb.bind_text + ")");
      }
    }
  }
  const AdminConfig& admin = config.admin;
  if (!admin.enabled || admin.bind.port() == 0) return;
  for (const auto& l : config.listeners) {
    if (l.bind.port() != admin.bind.port()) continue;
    if (l.bind == admin.bind || l.bind.is_wildcard() || admin.bind.is_wildcard()) {
      errors.add(admin.location, "admin.bind",
                 "port " + std::to_string(admin.bind.port()) + " is already used by listener \"" +
                     l.name + "\" (" + l.bind_text + ")");
    }
  }
}

// Whether a metric alarm's dimension names something that exists: a listener, a target
// group, a database, or a member of the alarm's database. Empty when it does, else the error.
std::string check_dimension(const Config& config, const AlarmConfig& a, const std::string& dim,
                            const std::string& value) {
  bool known = false;
  if (dim == "target_group") {
    for (const auto& g : config.target_groups) known = known || g.name == value;
  } else if (dim == "listener") {
    for (const auto& l : config.listeners) known = known || l.name == value;
  } else if (dim == "database") {
    for (const auto& d : config.databases) known = known || d.name == value;
  } else if (dim == "member") {
    auto db = a.dimensions.find("database");
    if (db == a.dimensions.end()) return "a member dimension needs a database dimension too";
    for (const auto& d : config.databases) {
      if (d.name != db->second) continue;
      for (const auto& m : d.members) known = known || m.name == value;
      known = known || d.members.empty();  // found in Patroni's keys: any name may come
    }
  } else {
    return "unknown dimension \"" + dim + "\"; expected listener, target_group, database or member";
  }
  return known ? "" : "no " + dim + " named \"" + value + "\"";
}

// Alarm names are unique; a composite's rule parses, names alarms that exist, and no
// alarm depends on itself; metric dimensions name what exists.
void check_alarms(Config& config, ErrorList& errors) {
  std::map<std::string, size_t> by_name;
  for (size_t i = 0; i < config.alarms.size(); ++i) {
    auto [it, fresh] = by_name.emplace(config.alarms[i].name, i);
    if (!fresh) {
      errors.add(config.alarms[i].location, "alarms[" + std::to_string(i) + "].name",
                 "duplicate alarm name \"" + config.alarms[i].name + "\"");
    }
  }
  std::map<std::string, std::vector<std::string>> depends;
  for (size_t i = 0; i < config.alarms.size(); ++i) {
    AlarmConfig& a = config.alarms[i];
    std::string path = "alarms[" + std::to_string(i) + "]";
    if (a.rule.empty()) {
      for (const auto& [dim, value] : a.dimensions) {
        std::string error = check_dimension(config, a, dim, value);
        if (!error.empty()) errors.add(a.location, path + ".dimensions." + dim, error);
      }
      continue;
    }
    std::string error;
    a.parsed_rule = AlarmRule::parse(a.rule, &error);
    if (!a.parsed_rule) {
      errors.add(a.rule_location, path + ".rule", error);
      continue;
    }
    std::vector<std::string> names;
    a.parsed_rule->names(&names);
    for (const auto& n : names) {
      if (by_name.count(n) == 0) {
        errors.add(a.rule_location, path + ".rule", "no alarm named \"" + n + "\"");
      }
    }
    depends[a.name] = names;
  }
  // A cycle among composites would never settle.
  std::map<std::string, int> mark;  // 0 unvisited, 1 in progress, 2 done
  std::function<bool(const std::string&)> cyclic = [&](const std::string& n) {
    if (mark[n] == 1) return true;
    if (mark[n] == 2) return false;
    mark[n] = 1;
    for (const auto& d : depends[n]) {
      if (cyclic(d)) return true;
    }
    mark[n] = 2;
    return false;
  };
  for (size_t i = 0; i < config.alarms.size(); ++i) {
    if (!config.alarms[i].rule.empty() && mark[config.alarms[i].name] == 0 &&
        cyclic(config.alarms[i].name)) {
      errors.add(config.alarms[i].rule_location, "alarms[" + std::to_string(i) + "].rule",
                 "alarm \"" + config.alarms[i].name + "\" depends on itself through its rule");
    }
  }
}

// Autoscaling groups: unique names, an existing target group each (one group per target
// group), enough ports for max_size, policies naming alarms that exist.
void check_autoscaling(Config& config, ErrorList& errors) {
  std::map<std::string, size_t> names, owners;
  for (size_t i = 0; i < config.autoscaling_groups.size(); ++i) {
    AutoScalingGroupConfig& g = config.autoscaling_groups[i];
    std::string path = "autoscaling_groups[" + std::to_string(i) + "]";
    if (!g.name.empty() && !names.emplace(g.name, i).second) {
      errors.add(g.location, path + ".name", "duplicate autoscaling group name \"" + g.name + "\"");
    }
    bool found = false;
    for (size_t t = 0; t < config.target_groups.size(); ++t) {
      if (config.target_groups[t].name == g.target_group) {
        g.target_group_index = t;
        found = true;
      }
    }
    if (!found && !g.target_group.empty()) {
      errors.add(g.location, path + ".target_group",
                 "target group \"" + g.target_group + "\" does not exist");
    }
    if (found && !owners.emplace(g.target_group, i).second) {
      errors.add(g.location, path + ".target_group",
                 "target group \"" + g.target_group + "\" already belongs to autoscaling_groups[" +
                     std::to_string(owners[g.target_group]) + "]");
    }
    const LaunchConfig& l = g.launch;
    if (l.provider == LaunchConfig::Provider::kProcess && l.port_first != 0 &&
        static_cast<uint32_t>(l.port_last - l.port_first + 1) < g.max_size) {
      errors.add(l.location, path + ".launch.ports",
                 "the port range holds " + std::to_string(l.port_last - l.port_first + 1) +
                     " ports but max_size is " + std::to_string(g.max_size));
    }
    std::map<std::string, size_t> policy_names;
    for (size_t p = 0; p < g.policies.size(); ++p) {
      const ScalingPolicyConfig& pc = g.policies[p];
      std::string ppath = path + ".policies[" + std::to_string(p) + "]";
      if (!policy_names.emplace(pc.name, p).second) {
        errors.add(pc.location, ppath + ".name", "duplicate policy name \"" + pc.name + "\"");
      }
      if (pc.alarm.empty()) continue;
      const AlarmConfig* alarm = nullptr;
      for (const auto& a : config.alarms) {
        if (a.name == pc.alarm) alarm = &a;
      }
      if (alarm == nullptr) {
        errors.add(pc.location, ppath + ".alarm", "alarm \"" + pc.alarm + "\" does not exist");
      } else if (pc.type == ScalingPolicyConfig::Type::kStepScaling && !alarm->rule.empty()) {
        errors.add(pc.location, ppath + ".alarm",
                   "alarm \"" + pc.alarm +
                       "\" is a composite alarm; step scaling needs a metric alarm (its steps "
                       "are distances from the threshold)");
      }
    }
  }
}

bool matches_everything(const RuleMatch& m) {
  return !m.host && !m.path_prefix && !m.path && !m.path_regex && m.methods.empty() &&
         m.headers.empty() && m.query.empty();
}

// A tcp listener sees no requests, only connections: one rule that forwards them all.
// What HTTP alone gives meaning to is refused, so that nothing in the file is silently
// ignored.
void check_listener_protocols(const Config& config, ErrorList& errors) {
  for (size_t i = 0; i < config.listeners.size(); ++i) {
    const ListenerConfig& l = config.listeners[i];
    const std::string path = listener_path(i);
    if (l.protocol == ListenerConfig::Protocol::kHttp) {
      if (l.send_proxy_protocol != ListenerConfig::ProxyProtocol::kNone) {
        errors.add(l.location, path + ".send_proxy_protocol",
                   "only tcp listeners send the PROXY protocol (an HTTP listener's connections "
                   "to targets carry many clients' requests: X-Forwarded-For names each client)");
      }
      continue;
    }
    if (l.rules.size() != 1 || l.rules[0].action != RuleConfig::Action::kForward ||
        !matches_everything(l.rules[0].match)) {
      errors.add(l.location, path + ".rules",
                 "a tcp listener forwards every connection: give it one rule, \"- forward: { "
                 "target_group: NAME }\", without match");
    }
    if (l.tls.enabled) {
      errors.add(l.tls.location, path + ".tls", "TLS on tcp listeners is not supported yet");
    }
    if (l.http2.configured) {
      errors.add(l.http2.location, path + ".http2",
                 "a tcp listener relays bytes; HTTP/2 is for http listeners");
    }
    for (const auto& f :
         l.rules.empty() ? std::vector<RuleConfig::ForwardTo>{} : l.rules[0].forward) {
      if (f.target_group_index >= config.target_groups.size()) continue;
      const TargetGroupConfig& group = config.target_groups[f.target_group_index];
      if (group.tls.enabled) {
        errors.add(f.location, path + ".rules[0]." + f.path,
                   "target group \"" + f.target_group +
                       "\" speaks TLS to its targets; a tcp listener relays bytes as they are "
                       "(use an http listener, or a group without tls)");
      }
      if (group.protocol_version == TargetGroupConfig::ProtocolVersion::kHttp2) {
        errors.add(f.location, path + ".rules[0]." + f.path,
                   "target group \"" + f.target_group +
                       "\" speaks HTTP/2 to its targets; a tcp listener relays bytes as they "
                       "are (use an http listener, or a group without protocol_version)");
      }
    }
    if (l.access_log.enabled) {
      errors.add(
          l.access_log.location, path + ".access_log",
          "tcp listeners keep no access log yet (their metrics count connections and bytes)");
    }
  }
}

// A rule's response header policy against its listener: the listener's tls.hsts states
// Strict-Transport-Security for every response (the security_headers preset yields to it;
// setting it in both places is an error), and the lines for ballast's own responses.
void finish_response_headers(Config& config, ErrorList& errors) {
  using Mode = ResponseHeadersConfig::Field::Mode;
  for (size_t li = 0; li < config.listeners.size(); ++li) {
    ListenerConfig& l = config.listeners[li];
    for (size_t ri = 0; ri < l.rules.size(); ++ri) {
      ResponseHeadersConfig& h = l.rules[ri].response_headers;
      if (h.empty()) continue;
      if (!l.tls.hsts_line.empty()) {
        std::erase_if(h.fields, [&](const ResponseHeadersConfig::Field& f) {
          if (!http::iequals(f.name, "strict-transport-security")) return false;
          if (f.mode != Mode::kDefault) {
            errors.add(h.location,
                       listener_path(li) + ".rules[" + std::to_string(ri) + "].response_headers",
                       "Strict-Transport-Security is set by the listener's tls.hsts already; "
                       "set it in one place");
          }
          return true;
        });
      }
      for (const auto& f : h.fields) h.own_response_lines += f.name + ": " + f.value + "\r\n";
    }
  }
}

}  // namespace

void validate(Config& config, ErrorList& errors) {
  check_alarms(config, errors);
  check_unique_names(config, errors);
  resolve_rules(config, errors);
  check_listener_protocols(config, errors);
  check_ports(config, errors);
  check_autoscaling(config, errors);
  finish_response_headers(config, errors);
}

}  // namespace ballast::config
