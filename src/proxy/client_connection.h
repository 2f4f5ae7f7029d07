#pragma once
#include <cstddef>
#include <span>

#include "core/event_loop.h"

namespace ballast::proxy {

class TargetGroupRuntime;

// A client connection a worker keeps, whatever it speaks: an HTTP session, a TCP relay.
// The worker reaches its connections only through these, in its intrusive list.
class ClientConnection : public core::IoHandler {
 public:
  // Graceful shutdown: an idle connection closes now, a busy one when its work is done.
  virtual void begin_drain() = 0;
  // The worker has a new configuration snapshot.
  virtual void on_reload() = 0;
  // Forced close when the shutdown deadline passes.
  virtual void abort() = 0;
  // A new membership of `group` was applied: a connection to one of the `fenced` positions
  // closes at once, and one that waits for a target of the group may now find one. Only
  // groups that fence or hold connections (a database's endpoints) call it.
  virtual void on_membership(TargetGroupRuntime& /*group*/, std::span<const size_t> /*fenced*/) {}

  ClientConnection* prev = nullptr;  // the worker's list of connections
  ClientConnection* next = nullptr;
};

}  // namespace ballast::proxy
