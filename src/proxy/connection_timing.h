#pragma once

#include <cstddef>
#include <cstdint>

// Figures that the HTTP/1.1 and HTTP/2 connections share, kept in one place so that the two
// protocols cannot drift apart.
namespace ballast::proxy {

// How long a closing connection keeps reading (and discarding) what the client still sends,
// so that closing does not reset the connection before the client read our answer.
inline constexpr int64_t kLingerMs = 2000;

// HTTP/2 frames are serialised ahead of the socket until this much waits: with the one frame
// that passes it (at most 16 KiB of DATA), the buffer stays within one pooled 32 KiB block.
inline constexpr size_t kMaxH2QueuedOut = 16 * 1024;

}  // namespace ballast::proxy
