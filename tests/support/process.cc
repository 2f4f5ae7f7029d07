#include "support/process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

namespace ballast::test {

namespace {
// The ThreadSanitizer pass (`make test-tsan`) runs the Release test programs against an
// instrumented ballast, named by BALLAST_BINARY_OVERRIDE: the races worth finding in these
// tests are in the ballast process, and building the integration tests with TSan again
// would cost minutes of every `make test`.
std::vector<std::string> with_binary_override(std::vector<std::string> argv) {
  const char* override_path = std::getenv("BALLAST_BINARY_OVERRIDE");
  if (override_path != nullptr && *override_path != '\0' && !argv.empty() &&
      argv[0] == BALLAST_BINARY) {
    argv[0] = override_path;
  }
  return argv;
}
}  // namespace

Process::Process(const std::vector<std::string>& given, const std::string& log_path)
    : log_path_(log_path) {
  const std::vector<std::string> argv = with_binary_override(given);
  pid_ = fork();
  if (pid_ == 0) {
    int fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
}

Process::~Process() {
  if (running()) {
    kill(pid_, SIGKILL);
    wait_exit(5000);
  }
}

void Process::signal(int sig) {
  if (pid_ > 0) kill(pid_, sig);
}

bool Process::running() {
  if (pid_ <= 0 || status_ != -1) return false;
  int st = 0;
  pid_t r = waitpid(pid_, &st, WNOHANG);
  if (r == pid_) {
    status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    return false;
  }
  return true;
}

int Process::wait_exit(int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    if (!running()) return status_;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return running() ? -1 : status_;
}

std::string Process::log() const {
  std::ifstream in(log_path_);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

bool ballast_is_instrumented() {
#if defined(__SANITIZE_ADDRESS__)
  return true;
#else
  const char* override_path = std::getenv("BALLAST_BINARY_OVERRIDE");
  return override_path != nullptr && *override_path != '\0';
#endif
}

long peak_rss_bytes(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6)) * 1024;
  }
  return -1;
}

}  // namespace ballast::test
