#!/usr/bin/env python3
"""An exec provider for ballast: launches `ballast backend` processes on this machine.

ballast runs it with a JSON request on stdin and reads a JSON answer on stdout
(docs/autoscaling.md, "The exec provider"). Copy it and replace the three actions with
calls to your platform: a cloud CLI, kubectl, nomad, systemd-run.

  launch    {"action":"launch","group":G,"instance_id":I,"zone":Z}
            -> {"address":"127.0.0.1:PORT","provider_id":"PID"}
  terminate {"action":"terminate","instance_id":I,"provider_id":"PID",...}
            -> exit 0 once it is gone
  describe  {"action":"describe","instances":[{"instance_id":I,"provider_id":"PID"},...]}
            -> {"instances":[{"instance_id":I,"state":"running"|"stopped"},...]}

Launches are idempotent, as ballast's cluster needs them to be: a launch whose
idempotency_key was seen before answers what that launch answered (a new autoscaler leader
asks again for the launches its predecessor left unanswered). STATE_DIR/launched/ keeps
the answers, and STATE_DIR/launches.log one line per backend actually started.

Settings come from the environment (launch.environment in the configuration):
  BALLAST_BIN     the ballast binary (default: ballast on PATH)
  STATE_DIR       where instance logs go (default: /tmp/ballast-exec)
  PORT_FIRST/PORT_LAST   ports handed out (default: 9300-9399)
  LAUNCH_DELAY    seconds a launch takes to answer once started, like a slow cloud API
                  (default: 0)

For zone-outage drills: while STATE_DIR/zone-ZONE.down exists, launches into ZONE fail
("zone ZONE is unavailable"), as a cloud refuses launches into an impaired zone. For drills
in network namespaces, ZONE_<ZONE>_NETNS and ZONE_<ZONE>_ADDRESS start a zone's backends
inside that namespace (ip netns exec), listening on that address: cutting the namespace's
link then cuts the zone's instances off, as a real zone outage does.
"""
import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import time


def port_free(address, local, port):
    """Whether nothing listens on address:port. On this machine a bind says so exactly; in
    another network namespace only a connection attempt can tell."""
    with socket.socket() as s:
        try:
            if local:
                s.bind((address, port))
                return True
            s.settimeout(1)
            return s.connect_ex((address, port)) != 0
        except OSError:
            return not local


def zone_placement(zone):
    """Where a zone's backends run: (address, network namespace or None)."""
    netns = os.environ.get(f"ZONE_{zone}_NETNS") or None
    return os.environ.get(f"ZONE_{zone}_ADDRESS", "127.0.0.1"), netns


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie is not alive: look at its state.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def answer_file(state, request):
    key = request.get("idempotency_key") or request["group"] + "/" + request["instance_id"]
    return os.path.join(state, "launched", key.replace("/", "_") + ".json")


def launch(request):
    state = os.environ.get("STATE_DIR", "/tmp/ballast-exec")
    os.makedirs(os.path.join(state, "launched"), exist_ok=True)
    first = int(os.environ.get("PORT_FIRST", "9300"))
    last = int(os.environ.get("PORT_LAST", "9399"))
    answered = answer_file(state, request)
    zone = request.get("zone", "")
    if zone and os.path.exists(os.path.join(state, f"zone-{zone}.down")):
        print(f"zone {zone} is unavailable", file=sys.stderr)
        return 1
    # ballast launches several instances at once: one launch at a time picks a port and
    # holds the lock until its backend listens on it and its answer is kept.
    with open(os.path.join(state, "launch.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if os.path.exists(answered):  # this launch happened already: the same answer
            with open(answered) as f:
                answer = f.read()
        else:
            answer = start_backend(state, request, first, last)
            if answer is None:
                return 1
            with open(answered + ".tmp", "w") as f:
                f.write(answer)
            os.rename(answered + ".tmp", answered)
    time.sleep(float(os.environ.get("LAUNCH_DELAY", "0")))
    print(answer)
    return 0


def start_backend(state, request, first, last):
    address, netns = zone_placement(request.get("zone", ""))
    local = netns is None

    def free(p):
        return port_free(address, local, p)

    port = next((p for p in range(first, last + 1) if free(p)), None)
    if port is None:
        print(f"no free port in {first}-{last} on {address}", file=sys.stderr)
        return None
    instance = request["instance_id"]
    log = open(os.path.join(state, instance + ".log"), "ab")
    # `ip netns exec` execs the backend: the pid stays the backend's own.
    command = ["ip", "netns", "exec", netns] if netns else []
    command += [os.environ.get("BALLAST_BIN", "ballast"), "backend", "--bind", address,
                "--port", str(port), "--id", instance]
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                               start_new_session=True)
    for _ in range(100):  # up to 10 s
        if not free(port) or process.poll() is not None:
            break
        time.sleep(0.1)
    if process.poll() is not None:
        print(f"the backend exited with status {process.returncode}", file=sys.stderr)
        return None
    with open(os.path.join(state, "launches.log"), "a") as journal:
        journal.write(f"{instance} {process.pid} {address}:{port}\n")
    return json.dumps({"address": f"{address}:{port}", "provider_id": str(process.pid)})


def terminate(request):
    pid = int(request.get("provider_id") or 0)
    if pid <= 0 or not alive(pid):
        return 0
    os.killpg(pid, signal.SIGTERM)
    for _ in range(100):  # up to 10 s, then SIGKILL
        if not alive(pid):
            return 0
        time.sleep(0.1)
    os.killpg(pid, signal.SIGKILL)
    return 0


def describe(request):
    out = []
    for i in request.get("instances", []):
        pid = int(i.get("provider_id") or 0)
        out.append({"instance_id": i["instance_id"],
                    "state": "running" if pid > 0 and alive(pid) else "stopped"})
    print(json.dumps({"instances": out}))
    return 0


def main():
    request = json.load(sys.stdin)
    action = request.get("action")
    handlers = {"launch": launch, "terminate": terminate, "describe": describe}
    if action not in handlers:
        print(f"unknown action {action!r}", file=sys.stderr)
        return 2
    return handlers[action](request)


if __name__ == "__main__":
    sys.exit(main())
