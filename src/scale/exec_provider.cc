#include "scale/exec_provider.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "core/log.h"

namespace ballast::scale {

namespace {
std::string last_line(const std::string& text) {
  size_t end = text.find_last_not_of("\r\n \t");
  if (end == std::string::npos) return "";
  size_t start = text.find_last_of('\n', end);
  return text.substr(start == std::string::npos ? 0 : start + 1,
                     end + 1 - (start == std::string::npos ? 0 : start + 1));
}
}  // namespace

ExecProvider::ExecProvider(core::EventLoop& loop, const config::LaunchConfig& launch,
                           std::string group, std::function<int64_t()> fencing_token)
    : loop_(loop),
      launch_(launch),
      group_(std::move(group)),
      fencing_token_(std::move(fencing_token)) {}

// ballast is stopping: its instances stop with it (a restart starts clean rather than
// leaving instances nobody tracks). Blocking is right here; each call is bounded.
ExecProvider::~ExecProvider() {
  for (const auto& [id, k] : known_) {
    if (k.terminating) continue;
    nlohmann::json in = {{"action", "terminate"},
                         {"group", group_},
                         {"instance_id", id},
                         {"address", k.address},
                         {"provider_id", k.provider_id}};
    SpawnOptions options;
    options.command = launch_.terminate_command;
    options.environment = launch_.environment;
    options.working_directory = launch_.working_directory;
    options.input = in.dump() + "\n";
    std::string error;
    auto child = ChildProcess::spawn(loop_, options, nullptr, &error);
    if (!child) continue;
    int status = 0;
    for (int64_t waited = 0; waited < std::min<int64_t>(launch_.command_timeout_ms, 15000);
         waited += 20) {
      if (waitpid(child->pid(), &status, WNOHANG) == child->pid()) break;
      usleep(20000);
    }
  }
}

void ExecProvider::run(const std::string& what, const std::string& command,
                       const std::string& input, Finish finish) {
  SpawnOptions options;
  options.command = command;
  options.environment = launch_.environment;
  if (int64_t token = fencing_token_ ? fencing_token_() : 0; token != 0) {
    options.environment.emplace_back("BALLAST_FENCING_TOKEN", std::to_string(token));
  }
  options.working_directory = launch_.working_directory;
  options.capture_output = true;
  options.input = input;
  uint64_t id = next_call_++;
  std::string error;
  auto child = ChildProcess::spawn(
      loop_, options,
      [this, id, what, finish](int status) {
        auto it = calls_.find(id);
        if (it == calls_.end()) return;
        std::string out = it->second.child->output();
        std::string err = last_line(it->second.child->errors());
        bool timed_out = it->second.deadline_ms == 0;
        retire(loop_, std::move(it->second.child));
        calls_.erase(it);
        if (timed_out) {
          finish(false, out,
                 what + ": no answer within " + std::to_string(launch_.command_timeout_ms) + "ms");
        } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
          finish(false, out,
                 what + ": command " + describe_exit(status) + (err.empty() ? "" : ": " + err));
        } else {
          finish(true, out, "");
        }
      },
      &error);
  if (!child || !error.empty()) {
    std::string why = what + ": " + error;
    loop_.post([finish, why] { finish(false, "", why); });
    return;
  }
  calls_[id] = Call{std::move(child), loop_.now_ms() + launch_.command_timeout_ms, what};
}

void ExecProvider::launch(const LaunchRequest& request, LaunchFn done) {
  // Instance ids are never reused, so "group/instance" names this launch alone: a platform
  // that sees the key twice (a leader that retried, or its successor) launches once.
  nlohmann::json in = {{"action", "launch"},
                       {"group", request.group},
                       {"instance_id", request.instance_id},
                       {"zone", request.zone},
                       {"idempotency_key", request.group + "/" + request.instance_id}};
  if (int64_t token = fencing_token_ ? fencing_token_() : 0; token != 0)
    in["fencing_token"] = token;
  std::string id = request.instance_id;
  run("launch " + id, launch_.launch_command, in.dump() + "\n",
      [this, id, done](bool ok, const std::string& output, const std::string& error) {
        LaunchResult result;
        if (!ok) {
          result.error = error;
          done(result);
          return;
        }
        auto answer = nlohmann::json::parse(output, nullptr, false);
        if (answer.is_discarded() || !answer.is_object() || !answer.contains("address") ||
            !answer["address"].is_string()) {
          result.error = "launch " + id +
                         ": the command's output is not a JSON object with an \"address\" "
                         "(\"host:port\"): " +
                         last_line(output);
          done(result);
          return;
        }
        result.ok = true;
        result.address = answer["address"].get<std::string>();
        if (answer.contains("provider_id") && answer["provider_id"].is_string()) {
          result.provider_id = answer["provider_id"].get<std::string>();
        }
        // Released meanwhile: the successor's own launch with the same key finds it.
        if (!released_) known_[id] = Known{result.address, result.provider_id, false, {}};
        done(result);
      });
}

void ExecProvider::terminate(const std::string& instance_id, DoneFn done) {
  auto it = known_.find(instance_id);
  nlohmann::json in = {{"action", "terminate"},
                       {"group", group_},
                       {"instance_id", instance_id},
                       {"idempotency_key", "terminate/" + group_ + "/" + instance_id}};
  if (int64_t token = fencing_token_ ? fencing_token_() : 0; token != 0)
    in["fencing_token"] = token;
  if (it != known_.end()) {
    it->second.terminating = true;
    in["address"] = it->second.address;
    in["provider_id"] = it->second.provider_id;
  }
  run("terminate " + instance_id, launch_.terminate_command, in.dump() + "\n",
      [this, instance_id, done](bool ok, const std::string&, const std::string& error) {
        if (ok) known_.erase(instance_id);
        done(ok, error);
      });
}

void ExecProvider::describe() {
  nlohmann::json list = nlohmann::json::array();
  asked_.clear();
  for (const auto& [id, k] : known_) {
    asked_.insert(id);
    list.push_back({{"instance_id", id}, {"address", k.address}, {"provider_id", k.provider_id}});
  }
  nlohmann::json in = {{"action", "describe"}, {"group", group_}, {"instances", list}};
  describing_ = true;
  run("describe", launch_.describe_command, in.dump() + "\n",
      [this](bool ok, const std::string& output, const std::string& error) {
        describing_ = false;
        if (!ok) {
          LOG_WARN("autoscaling group \"%s\": %s", group_.c_str(), error.c_str());
          return;
        }
        described(output);
      });
}

// {"instances": [{"instance_id": "...", "state": "running", "cpu_percent": 12.5}]}: an
// instance we launched that is missing, or not running, has ended.
void ExecProvider::described(const std::string& output) {
  auto answer = nlohmann::json::parse(output, nullptr, false);
  if (answer.is_discarded() || !answer.is_object() || !answer.contains("instances") ||
      !answer["instances"].is_array()) {
    LOG_WARN("autoscaling group \"%s\": describe: the output is not {\"instances\": [...]}",
             group_.c_str());
    return;
  }
  std::map<std::string, std::string> states;
  for (const auto& i : answer["instances"]) {
    if (!i.is_object() || !i.contains("instance_id") || !i["instance_id"].is_string()) continue;
    std::string id = i["instance_id"].get<std::string>();
    states[id] = i.value("state", std::string("running"));
    auto k = known_.find(id);
    if (k == known_.end()) continue;
    if (i.contains("cpu_percent") && i["cpu_percent"].is_number())
      k->second.usage.cpu_percent = i["cpu_percent"].get<double>();
    if (i.contains("memory_bytes") && i["memory_bytes"].is_number())
      k->second.usage.memory_bytes = i["memory_bytes"].get<double>();
  }
  std::vector<std::pair<std::string, std::string>> gone;
  for (const auto& [id, k] : known_) {
    if (k.terminating || asked_.count(id) == 0) continue;  // launched since the call
    auto s = states.find(id);
    if (s == states.end()) {
      gone.emplace_back(id, "describe no longer lists it");
    } else if (s->second != "running" && s->second != "pending") {
      gone.emplace_back(id, "describe reports it " + s->second);
    }
  }
  for (const auto& [id, why] : gone) {
    known_.erase(id);
    if (exit_fn_) exit_fn_(id, why);
  }
}

void ExecProvider::poll(int64_t now_ms) {
  for (auto& [id, call] : calls_) {
    if (call.deadline_ms != 0 && now_ms >= call.deadline_ms) {
      LOG_WARN("autoscaling group \"%s\": %s: timed out; killing it", group_.c_str(),
               call.what.c_str());
      call.deadline_ms = 0;  // marks the timeout for the exit callback
      call.child->signal_group(SIGKILL);
    }
  }
  if (launch_.describe_command.empty() || describing_ || now_ms < next_describe_ms_) return;
  next_describe_ms_ = now_ms + launch_.describe_interval_ms;
  if (!known_.empty()) describe();
}

void ExecProvider::adopt(const std::string& instance_id, const std::string& address,
                         const std::string& provider_id) {
  known_[instance_id] = Known{address, provider_id, false, {}};
}

void ExecProvider::release_all() {
  released_ = true;
  known_.clear();
  asked_.clear();
}

InstanceUsage ExecProvider::usage(const std::string& instance_id) const {
  auto it = known_.find(instance_id);
  return it == known_.end() ? InstanceUsage{} : it->second.usage;
}

}  // namespace ballast::scale
