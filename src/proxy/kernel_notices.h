#pragma once
#include <cstdint>
#include <memory>
#include <unordered_map>

#include "core/event_loop.h"
#include "kernel_relay/kernel_relay.h"

namespace ballast::proxy {

class TcpSession;

// A worker's end of the kernel relay's notices: the sockets of its sessions whose bytes
// the relay stopped forwarding (over budget, or no peer). The session is told at once, to
// take the bytes over; without this it would find out at its next periodic check.
class KernelNotices final : public core::IoHandler {
 public:
  // nullptr when the kernel refuses the ring (sessions then rely on their checks).
  static std::unique_ptr<KernelNotices> open(core::EventLoop& loop, unsigned worker);
  ~KernelNotices() override;
  KernelNotices(const KernelNotices&) = delete;
  KernelNotices& operator=(const KernelNotices&) = delete;

  void watch(uint64_t cookie, TcpSession* session) { sessions_[cookie] = session; }
  void forget(uint64_t cookie) { sessions_.erase(cookie); }
  void on_io(uint32_t events) override;

 private:
  explicit KernelNotices(core::EventLoop& loop) : loop_(loop) {}
  static void on_notice(void* self, uint64_t cookie);

  core::EventLoop& loop_;
  std::unique_ptr<kernel_relay::KernelRelay::NoticeRing> ring_;
  std::unordered_map<uint64_t, TcpSession*> sessions_;
};

}  // namespace ballast::proxy
