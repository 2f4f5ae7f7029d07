#include "support/ports.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "core/thread_annotations.h"

namespace ballast::test {
namespace {

constexpr int kBlockSize = 64;
constexpr const char* kLockDirectory = "/tmp/ballast-test-ports";

// The ports no outgoing connection takes: below the ephemeral range when there is room
// there, else above it.
struct Region {
  int first;
  int last;
};
Region region() {
  int low = 32768, high = 60999;
  std::ifstream in("/proc/sys/net/ipv4/ip_local_port_range");
  in >> low >> high;
  if (low - 10000 >= 16 * kBlockSize) return {10000, low - 1};
  if (65535 - high >= 16 * kBlockSize) return {high + 1, 65535};
  return {10000, 65535};  // no room outside it: the locks still keep test programs apart
}

bool bindable(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr = loopback_sockaddr(port);
  bool ok = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return ok;
}

class PortBlocks {
 public:
  uint16_t port() {
    core::MutexLock lock(mu_);
    for (int attempt = 0; attempt < 4 * kBlockSize; ++attempt) {
      if (next_ == 0 || next_ > last_) claim_block();
      uint16_t port = static_cast<uint16_t>(next_++);
      if (bindable(port)) return port;
    }
    fail("no bindable port in four blocks");
  }

  PortRange range(int count) {
    if (count < 1 || count > kBlockSize) fail("a port range holds 1 to 64 ports");
    core::MutexLock lock(mu_);
    // A block of its own, so ports handed out one at a time never fall inside it.
    claim_block();
    PortRange r{static_cast<uint16_t>(next_), static_cast<uint16_t>(next_ + count - 1)};
    next_ = last_ + 1;  // the rest of the block stays unused
    return r;
  }

 private:
  [[noreturn]] static void fail(const std::string& why) {
    std::fprintf(stderr, "test ports: %s\n", why.c_str());
    std::abort();
  }

  // Takes the first block no other program holds, starting at one picked by the process
  // id so that programs started together rarely try the same blocks.
  void claim_block() REQUIRES(mu_) {
    Region r = region();
    int blocks = (r.last - r.first + 1) / kBlockSize;
    if (::mkdir(kLockDirectory, 0777) == 0) ::chmod(kLockDirectory, 01777);  // any user's tests
    int start = static_cast<int>(getpid()) % blocks;
    for (int k = 0; k < blocks; ++k) {
      int b = (start + k) % blocks;
      std::string path = std::string(kLockDirectory) + "/block-" + std::to_string(b);
      int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
      if (fd < 0) continue;
      if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        close(fd);
        continue;
      }
      held_.push_back(fd);  // held until the program exits
      next_ = r.first + b * kBlockSize;
      last_ = next_ + kBlockSize - 1;
      return;
    }
    fail("every block of ports is held by another test program");
  }

  core::Mutex mu_;
  int next_ GUARDED_BY(mu_) = 0;
  int last_ GUARDED_BY(mu_) = 0;
  std::vector<int> held_ GUARDED_BY(mu_);
};

PortBlocks& blocks() {
  static PortBlocks* b = new PortBlocks;  // never destroyed: the locks last the whole run
  return *b;
}

}  // namespace

sockaddr_in loopback_sockaddr(uint16_t port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return addr;
}

uint16_t free_port() {
  return blocks().port();
}

PortRange free_port_range(int count) {
  return blocks().range(count);
}

int connect_from(const std::string& source, uint16_t port, bool nonblocking) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in from{};
  from.sin_family = AF_INET;
  inet_pton(AF_INET, source.c_str(), &from.sin_addr);
  sockaddr_in to = loopback_sockaddr(port);
  if (bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof(from)) != 0 ||
      connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof(to)) != 0) {
    close(fd);
    return -1;
  }
  if (nonblocking) fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  return fd;
}

}  // namespace ballast::test
