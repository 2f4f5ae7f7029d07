// The values of the kernel relay's maps, shared by the verdict program (C, BPF target) and
// ballast (C++): one definition, so the two cannot disagree on a layout.
#pragma once
#include <linux/types.h>

#define KERNEL_RELAY_MAX_SOCKETS 131072
// Workers that can have a notice ring (see `notices` in relay_verdict.bpf.c).
#define KERNEL_RELAY_MAX_WORKERS 256
// Each worker's ring: room for 4096 notices (8-byte cookie + 8-byte header each).
#define KERNEL_RELAY_RING_BYTES 65536

// Where a socket's bytes go: the peer socket's cookie, and how many bytes the program may
// forward in all before user space has seen the peer take them (the budget); and which
// worker's ring hears when the program stops forwarding them.
struct relay_route {
  __u64 peer;
  __u64 budget;
  __u32 worker;
  __u32 unused;
};

// What the program did with a socket's bytes: how many it forwarded, and whether it has
// stopped (over budget) and now leaves them to user space.
struct relay_tally {
  __u64 forwarded;
  __u64 passing;
};
