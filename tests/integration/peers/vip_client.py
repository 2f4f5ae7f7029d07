#!/usr/bin/python3
"""A client that keeps asking GET / at one address and retries an idempotent request that
fails (connect, reset, timeout, 5xx) until it succeeds or its budget runs out, as a browser or
an HTTP library with retries would. Prints one JSON line: requests made, requests that failed
for good, attempts that failed, and the longest time without a successful answer."""
import json
import socket
import sys
import time

host, port, seconds, budget_ms = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
attempt_timeout = 0.25


def attempt():
    s = socket.create_connection((host, port), timeout=attempt_timeout)
    try:
        s.settimeout(attempt_timeout)
        s.sendall(b"GET / HTTP/1.1\r\nHost: vip\r\nConnection: close\r\n\r\n")
        data = b""
        while b"\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        return data.startswith(b"HTTP/1.1 2")
    finally:
        s.close()


requests = failed = failed_attempts = 0
last_success = None
longest_gap = 0.0
end = time.monotonic() + seconds
while time.monotonic() < end:
    requests += 1
    started = time.monotonic()
    ok = False
    while not ok and time.monotonic() - started < budget_ms / 1000.0:
        try:
            ok = attempt()
        except OSError:
            ok = False
        if not ok:
            failed_attempts += 1
            time.sleep(0.02)
    now = time.monotonic()
    if ok:
        if last_success is not None:
            longest_gap = max(longest_gap, now - last_success)
        last_success = now
    else:
        failed += 1
    time.sleep(0.01)

print(json.dumps({"requests": requests, "failed_requests": failed,
                  "failed_attempts": failed_attempts,
                  "longest_gap_ms": int(longest_gap * 1000)}))
