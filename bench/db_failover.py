"""The failover timeline of `make bench-db`: kill -9 the primary's Patroni and PostgreSQL,
and measure from the kill when Patroni promoted a replica, when each proxy's writer reached
the new primary, and how long each client went without a successful write.

A prober per proxy (each writer endpoint of ballast's, and HAProxy) inserts a row through it every 20 ms (a new connection after any error,
as an application's pool does); another asks each member's Patroni /primary every 20 ms.
Prints one JSON line."""
import json
import os
import signal
import sys
import threading
import time
import urllib.request

import psycopg2

ports = json.loads(sys.argv[1])  # {"proxies": {NAME: PORT}, "members": [{pg, rest, pid_file, agent_pid}]}
primary = int(sys.argv[2])       # the member index to kill
stop = threading.Event()
start = time.monotonic()
events = {}


def now_ms():
    return int((time.monotonic() - start) * 1000)


def prober(name, port):
    conn = None
    last_ok = None
    longest = 0
    new_primary_at = None
    old_port = ports["members"][primary]["pg"]
    while not stop.is_set():
        try:
            if conn is None:
                conn = psycopg2.connect(host="127.0.0.1", port=port, user="postgres",
                                        dbname="postgres", connect_timeout=30)
                conn.autocommit = True
            cur = conn.cursor()
            cur.execute("INSERT INTO probe(who) VALUES (%s) RETURNING inet_server_port()", (name,))
            served_by = cur.fetchone()[0]
            t = now_ms()
            # Before the kill the gaps are the probe's own 20 ms: the longest is the drill's.
            if last_ok is not None:
                longest = max(longest, t - last_ok)
            last_ok = t
            if killed_at[0] is not None and served_by != old_port and new_primary_at is None:
                new_primary_at = t
        except Exception:
            if conn is not None:
                try:
                    conn.close()
                except Exception:
                    pass
            conn = None
        time.sleep(0.02)
    events[name] = {"new_primary_ms": new_primary_at, "longest_without_write_ms": longest}


def watch_patroni():
    while not stop.is_set():
        for i, m in enumerate(ports["members"]):
            if i == primary:
                continue
            try:
                with urllib.request.urlopen("http://127.0.0.1:%d/primary" % m["rest"], timeout=0.5) as r:
                    if r.status == 200 and "promoted_ms" not in events:
                        events["promoted_ms"] = now_ms()
            except Exception:
                pass
        time.sleep(0.02)


killed_at = [None]
threads = [threading.Thread(target=prober, args=(name, port))
           for name, port in ports["proxies"].items()]
threads.append(threading.Thread(target=watch_patroni))
for t in threads:
    t.start()
time.sleep(2)
m = ports["members"][primary]
killed_at[0] = now_ms()
os.kill(m["agent_pid"], signal.SIGKILL)
with open(m["pid_file"]) as f:
    os.kill(int(f.readline()), signal.SIGKILL)
deadline = time.monotonic() + 60
while time.monotonic() < deadline:
    time.sleep(0.1)
    if "promoted_ms" in events and time.monotonic() - start > (events["promoted_ms"] / 1000) + 12:
        break
stop.set()
for t in threads:
    t.join()
k = killed_at[0]
out = {"promoted_after_kill_ms": events.get("promoted_ms", -1) - k}
for name in ports["proxies"]:
    e = events[name]
    reached = e["new_primary_ms"]
    out[name] = {
        "reached_new_primary_after_promotion_ms": (reached - events["promoted_ms"])
        if reached is not None and "promoted_ms" in events else None,
        "longest_without_write_ms": e["longest_without_write_ms"],
    }
print(json.dumps(out))
