// The values of the kernel relay's maps, shared by the verdict program (C, BPF target) and
// ballast (C++): one definition, so the two cannot disagree on a layout.
#pragma once
#include <linux/types.h>

#define KERNEL_RELAY_MAX_SOCKETS 131072

// Where a socket's bytes go: the peer socket's cookie, and how many bytes the program may
// forward in all before user space has seen the peer take them (the budget).
struct relay_route {
  __u64 peer;
  __u64 budget;
};

// What the program did with a socket's bytes: how many it forwarded, and whether it has
// stopped (over budget) and now leaves them to user space.
struct relay_tally {
  __u64 forwarded;
  __u64 passing;
};
