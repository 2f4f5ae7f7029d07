#include "proxy/kernel_notices.h"

#include "core/log.h"
#include "proxy/tcp_session.h"

namespace ballast::proxy {

std::unique_ptr<KernelNotices> KernelNotices::open(core::EventLoop& loop, unsigned worker) {
  kernel_relay::KernelRelay* relay = kernel_relay::KernelRelay::shared();
  if (relay == nullptr) return nullptr;
  std::unique_ptr<KernelNotices> notices(new KernelNotices(loop));
  std::string why;
  notices->ring_ = relay->open_notices(worker, &KernelNotices::on_notice, notices.get(), &why);
  if (!notices->ring_) {
    LOG_WARN("worker %u: no notices from the kernel relay (%s): handbacks wait for checks", worker,
             why.c_str());
    return nullptr;
  }
  loop.add_level_triggered(notices->ring_->fd(), EPOLLIN, notices.get());
  return notices;
}

KernelNotices::~KernelNotices() {
  if (ring_) loop_.remove(ring_->fd());
}

void KernelNotices::on_io(uint32_t /*events*/) {
  ring_->consume();
}

void KernelNotices::on_notice(void* self, uint64_t cookie) {
  auto* notices = static_cast<KernelNotices*>(self);
  auto it = notices->sessions_.find(cookie);
  if (it == notices->sessions_.end()) return;  // closed since
  it->second->on_kernel_notice();
}

}  // namespace ballast::proxy
