#pragma once
#include <cstdint>

namespace ballast::acme {

// When certificates are renewed and failed attempts retried. Pure functions of their
// inputs (the random part comes in as `jitter`, in [0, 1)), so tests can pin them.

// The time (unix seconds) to renew a certificate valid from `not_before` to `not_after`:
// `renew_before_s` ahead of its expiry, or a third of its lifetime ahead when that is 0
// (Let's Encrypt's advice: 30 of 90 days). A random share of up to a tenth of that margin
// comes off, so a fleet that got its certificates together does not renew together.
int64_t renewal_time(int64_t not_before, int64_t not_after, int64_t renew_before_s, double jitter);

// How long (seconds) to wait after the `failures`-th failed attempt in a row (1, 2, ...):
// a minute, doubling each time, at most six hours, less a random tenth. A certificate
// that expires sooner than that is retried by then still (capped by the caller).
int64_t retry_delay_s(int failures, double jitter);

}  // namespace ballast::acme
