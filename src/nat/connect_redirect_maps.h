// The connect() redirect's map layouts, shared by its BPF programs (C, BPF target) and
// ballast (C++): one definition, so the two cannot disagree.
#pragma once
#include <linux/types.h>

// Writer endpoints with a route at once (the routes map's size).
#define CONNECT_REDIRECT_MAX_ROUTES 1024
// Redirected sockets tracked at once; past it, connects are not redirected (they reach the
// writer's listener or its NAT rule instead), since an untracked socket could not be fenced.
#define CONNECT_REDIRECT_MAX_FLOWS 65536

// An address as sock_addr programs see it: network byte order, IPv4 in addr[0].
struct redirect_address {
  __u32 addr[4];
  __u16 port;
  __u16 family;  // AF_INET or AF_INET6
};

// A writer's bind -> its primary; `connections` counts the connects redirected.
struct redirect_route {
  struct redirect_address to;
  __u64 connections;
};

// A redirected socket (keyed by its cookie): the address it asked for and the one it got.
struct redirect_flow {
  struct redirect_address from;
  struct redirect_address to;
};
