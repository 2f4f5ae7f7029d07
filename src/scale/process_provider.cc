#include "scale/process_provider.h"

#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/log.h"
#include "core/socket_address.h"

namespace ballast::scale {

namespace {

constexpr int64_t kSampleIntervalMs = 1000;

struct ProcCpu {
  double cpu_seconds = 0;
  double resident_bytes = 0;
};

// utime + stime and resident pages of `pid` and its descendants (an instance started
// through a shell script is several processes).
void add_tree(pid_t pid, ProcCpu* total, int depth = 0) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return;
  size_t close = line.rfind(')');
  if (close == std::string::npos) return;
  std::istringstream fields(line.substr(close + 2));
  std::string f;
  // Fields after the name start at 3 (state); utime is 14, stime 15, rss 24.
  double utime = 0, stime = 0, rss = 0;
  for (int i = 3; i <= 24 && fields >> f; ++i) {
    if (i == 14) utime = std::stod(f);
    if (i == 15) stime = std::stod(f);
    if (i == 24) rss = std::stod(f);
  }
  static const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  static const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  total->cpu_seconds += (utime + stime) / ticks;
  total->resident_bytes += rss * page;
  if (depth > 8) return;
  std::ifstream children("/proc/" + std::to_string(pid) + "/task/" + std::to_string(pid) +
                         "/children");
  pid_t child = 0;
  while (children >> child) add_tree(child, total, depth + 1);
}

bool port_free(const std::string& host, uint16_t port) {
  std::string error;
  auto address = core::SocketAddress::parse(host + ":" + std::to_string(port), &error, false);
  if (!address) return false;
  int fd = ::socket(address->family(), SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  bool ok = ::bind(fd, address->sa(), address->length()) == 0;
  // A host that is not this machine's own (the command starts the instance in a container
  // or a network namespace that has it): nothing here can tell, and the ports ballast has
  // handed out are still skipped.
  bool elsewhere = !ok && errno == EADDRNOTAVAIL;
  ::close(fd);
  return ok || elsewhere;
}

void make_directories(const std::string& path) {
  for (size_t i = 1; i <= path.size(); ++i) {
    if (i == path.size() || path[i] == '/') ::mkdir(path.substr(0, i).c_str(), 0755);
  }
}

// "{port}" and the like replaced by their values.
std::string expand_template(std::string text,
                            const std::vector<std::pair<std::string, std::string>>& values) {
  for (const auto& [name, value] : values) {
    std::string key = "{" + name + "}";
    for (size_t at = text.find(key); at != std::string::npos;
         at = text.find(key, at + value.size())) {
      text.replace(at, key.size(), value);
    }
  }
  return text;
}

}  // namespace

ProcessProvider::ProcessProvider(core::EventLoop& loop, const config::LaunchConfig& launch,
                                 std::string ballast_path)
    : loop_(loop), launch_(launch), ballast_path_(std::move(ballast_path)) {
  if (launch_.log_directory.empty()) {
    const char* tmp = getenv("TMPDIR");
    launch_.log_directory =
        std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/ballast-instances";
  }
}

ProcessProvider::~ProcessProvider() {
  stop_all();
}

std::optional<uint16_t> ProcessProvider::free_port() const {
  for (uint32_t p = launch_.port_first; p <= launch_.port_last; ++p) {
    bool ours = false;
    for (const auto& [id, r] : running_) ours = ours || r.port == p;
    if (!ours && port_free(launch_.host, static_cast<uint16_t>(p))) return static_cast<uint16_t>(p);
  }
  return std::nullopt;
}

void ProcessProvider::launch(const LaunchRequest& request, LaunchFn done) {
  LaunchResult result;
  auto port = free_port();
  if (!port) {
    result.error = "no free port in " + std::to_string(launch_.port_first) + "-" +
                   std::to_string(launch_.port_last) + " on " + launch_.host;
    loop_.post([done, result] { done(result); });
    return;
  }
  std::vector<std::pair<std::string, std::string>> values = {
      {"port", std::to_string(*port)}, {"instance_id", request.instance_id},
      {"zone", request.zone},          {"group", request.group},
      {"host", launch_.host},          {"ballast", ballast_path_}};
  SpawnOptions options;
  options.command = expand_template(launch_.command, values);
  options.environment = launch_.environment;
  for (auto& [k, v] : options.environment) v = expand_template(v, values);
  options.environment.emplace_back("BALLAST_INSTANCE_ID", request.instance_id);
  options.environment.emplace_back("BALLAST_PORT", std::to_string(*port));
  options.environment.emplace_back("BALLAST_ZONE", request.zone);
  options.environment.emplace_back("BALLAST_GROUP", request.group);
  options.working_directory = launch_.working_directory;
  make_directories(launch_.log_directory);
  options.log_path = launch_.log_directory + "/" + request.instance_id + ".log";
  options.guard_binary = ballast_path_;
  options.guard_stop_timeout_ms = launch_.stop_timeout_ms;
  std::string id = request.instance_id;
  std::string error;
  auto child = ChildProcess::spawn(
      loop_, options, [this, id](int status) { exited(id, status); }, &error);
  if (!child || !error.empty()) {
    result.error = error;
    loop_.post([done, result] { done(result); });
    return;
  }
  result.ok = true;
  std::string host =
      launch_.host.find(':') != std::string::npos ? "[" + launch_.host + "]" : launch_.host;
  result.address = host + ":" + std::to_string(*port);
  result.provider_id = "pid " + std::to_string(child->pid());
  Running& r = running_[id];
  r.instance_id = id;
  r.port = *port;
  r.child = std::move(child);
  LOG_INFO("instance %s: started `%s` (pid %d), output in %s", id.c_str(), options.command.c_str(),
           static_cast<int>(r.child->pid()), options.log_path.c_str());
  loop_.post([done, result] { done(result); });
}

void ProcessProvider::terminate(const std::string& instance_id, DoneFn done) {
  auto it = running_.find(instance_id);
  if (it == running_.end()) {
    loop_.post([done] { done(true, ""); });  // gone already
    return;
  }
  Running& r = it->second;
  r.stopped = std::move(done);
  if (!r.stopping) {
    r.stopping = true;
    r.kill_at_ms = loop_.now_ms() + launch_.stop_timeout_ms;
    r.child->signal_group(SIGTERM);
  }
}

void ProcessProvider::exited(const std::string& instance_id, int status) {
  auto it = running_.find(instance_id);
  if (it == running_.end()) return;
  Running r = std::move(it->second);
  running_.erase(it);
  std::string how = describe_exit(status);
  retire(loop_, std::move(r.child));
  if (r.stopping) {
    LOG_INFO("instance %s: stopped (%s)", instance_id.c_str(), how.c_str());
    if (r.stopped) r.stopped(true, "");
    return;
  }
  LOG_WARN("instance %s: process %s", instance_id.c_str(), how.c_str());
  if (exit_fn_) exit_fn_(instance_id, "process " + how);
}

void ProcessProvider::sample(Running& r, int64_t now_ms) {
  ProcCpu now;
  add_tree(r.child->pid(), &now);
  r.usage.memory_bytes = now.resident_bytes;
  if (r.last_cpu_seconds >= 0 && now_ms > r.last_sample_ms) {
    r.usage.cpu_percent = (now.cpu_seconds - r.last_cpu_seconds) * 100000.0 /
                          static_cast<double>(now_ms - r.last_sample_ms);
  }
  r.last_cpu_seconds = now.cpu_seconds;
  r.last_sample_ms = now_ms;
}

void ProcessProvider::poll(int64_t now_ms) {
  for (auto& [id, r] : running_) {
    if (r.stopping && now_ms >= r.kill_at_ms && r.kill_at_ms != 0) {
      LOG_WARN("instance %s: still running %lldms after SIGTERM; sending SIGKILL", id.c_str(),
               static_cast<long long>(launch_.stop_timeout_ms));
      r.child->signal_group(SIGKILL);
      r.kill_at_ms = 0;
    }
  }
  if (now_ms - last_sample_ms_ < kSampleIntervalMs) return;
  last_sample_ms_ = now_ms;
  for (auto& [id, r] : running_) sample(r, now_ms);
}

InstanceUsage ProcessProvider::usage(const std::string& instance_id) const {
  auto it = running_.find(instance_id);
  return it == running_.end() ? InstanceUsage{} : it->second.usage;
}

void ProcessProvider::stop_all() {
  if (running_.empty()) return;
  for (auto& [id, r] : running_) r.child->signal_group(SIGTERM);
  // Blocking is right here: this is shutdown, nothing else is served any more.
  int64_t waited_ms = 0;
  for (auto& [id, r] : running_) {
    while (waited_ms < launch_.stop_timeout_ms && ::kill(r.child->pid(), 0) == 0) {
      int status = 0;
      if (waitpid(r.child->pid(), &status, WNOHANG) == r.child->pid()) break;
      usleep(20000);
      waited_ms += 20;
    }
  }
  running_.clear();  // anything left is SIGKILLed and reaped by ChildProcess
}

}  // namespace ballast::scale
