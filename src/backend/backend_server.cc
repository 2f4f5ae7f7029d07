#include "backend/backend_server.h"

#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <thread>

#include "backend/backend_connection.h"
#include "backend/serving_slots.h"
#include "core/buffer.h"
#include "core/event_loop.h"
#include "core/log.h"
#include "core/sockets.h"

namespace ballast::backend {

// One serving thread: its own loop and its own SO_REUSEPORT socket on the shared port.
class BackendServer::Thread final : public core::IoHandler {
 public:
  Thread(BackendState& state, int listen_fd) : state_(state), listen_fd_(listen_fd) {
    loop_.add_level_triggered(listen_fd_, EPOLLIN, this);
  }
  ~Thread() override {
    connections_.close_all();
    ::close(listen_fd_);
  }

  void on_io(uint32_t) override {
    for (int i = 0; i < 64; ++i) {
      int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;
      core::set_tcp_nodelay(fd);
      auto* c = new BackendConnection(loop_, pool_, state_, fd, connections_);
      c->start();
    }
  }

  void start() {
    thread_ = std::thread([this] { loop_.run(); });
  }
  void stop() {
    loop_.post([this] { connections_.close_all(); });
    loop_.stop();
    if (thread_.joinable()) thread_.join();
  }

 private:
  BackendState& state_;
  int listen_fd_;
  core::EventLoop loop_;
  core::BufferPool pool_;
  ConnectionList connections_;
  std::thread thread_;
};

BackendServer::BackendServer(BackendOptions options) : options_(std::move(options)) {}

BackendServer::~BackendServer() = default;

int BackendServer::run() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);

  std::string error;
  auto address =
      core::SocketAddress::parse(options_.bind + ":" + std::to_string(options_.port), &error);
  if (!address) {
    LOG_ERROR("backend: invalid --bind/--port: %s", error.c_str());
    return 2;
  }
  state_.slots = std::make_unique<ServingSlots>(std::max(1u, options_.threads));
  uint16_t port = options_.port;
  for (unsigned i = 0; i < std::max(1u, options_.threads); ++i) {
    int fd = core::listen_tcp(*address, true, 1024, &error);
    if (fd < 0) {
      LOG_ERROR("backend: %s", error.c_str());
      return 1;
    }
    if (i == 0 && port == 0) {
      // Port 0: the kernel chose one; the other threads bind that same port.
      port = core::local_address(fd).port();
      address = core::SocketAddress::parse(options_.bind + ":" + std::to_string(port), &error);
    }
    threads_.push_back(std::make_unique<Thread>(state_, fd));
  }
  state_.instance_id = options_.id.empty() ? std::to_string(port) : options_.id;
  for (auto& t : threads_) t->start();
  LOG_INFO("backend %s listening on %s:%u", state_.instance_id.c_str(), options_.bind.c_str(),
           port);

  int sig = 0;
  sigwait(&set, &sig);
  for (auto& t : threads_) t->stop();
  threads_.clear();
  return 0;
}

}  // namespace ballast::backend
