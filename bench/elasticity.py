#!/usr/bin/env python3
"""Elasticity metrics of one `make bench-autoscale` run, from ballast's own time series.

Reads, per second over the run, the group's instances (in service, pending, terminating),
the listener's arrival rate and p99 request time through the admin API, and computes the
SPEC Research Group's elasticity metrics (Herbst et al., "Quantifying Cloud Performance and
Dependability", ACM TOMPECS 2018) against the demand: the fewest instances that serve the
offered rate within the latency SLO, ceil(rate / capacity of one instance). Also the time
from each demand increase until enough capacity is in service, the time the SLO was
violated, and instance-seconds. Writes NAME.dat and plots NAME.png with gnuplot.
"""
import argparse
import json
import math
import os
import subprocess
import sys
import urllib.parse
import urllib.request
from datetime import datetime, timezone


def unix(text):
    return int(datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp())


def query(admin, metric, stat, start, end, **dims):
    params = {"metric": metric, "stat": stat, "period": "1", "start": str(start), "end": str(end)}
    params.update(dims)
    url = f"http://{admin}/api/v1/metrics/query?" + urllib.parse.urlencode(params)
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            result = json.load(r)["MetricDataResults"][0]
    except Exception as e:  # a series with no sample yet answers 404
        print(f"elasticity: {metric}: {e}", file=sys.stderr)
        return {}
    return {unix(t): v for t, v in zip(result["Timestamps"], result["Values"])}


def activities(admin, group):
    with urllib.request.urlopen(f"http://{admin}/api/v1/autoscaling-groups/{group}/activities", timeout=10) as r:
        return json.load(r)["activities"]


def read_trace(path):
    points = []
    for line in open(path):
        line = line.strip()
        if not line or line.startswith("#") or not line[0].isdigit():
            continue
        t, rate = line.split(",")
        points.append((float(t), float(rate)))
    return sorted(points)


def rate_at(trace, t):
    r = trace[0][1]
    for start, value in trace:
        if t >= start:
            r = value
    return r


def sign(x):
    return (x > 0) - (x < 0)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--admin", required=True)
    p.add_argument("--group", default="app")
    p.add_argument("--listener", default="web")
    p.add_argument("--trace", required=True)
    p.add_argument("--start", type=int, required=True, help="Unix second the load began")
    p.add_argument("--capacity", type=float, required=True, help="requests/s one instance serves within the SLO")
    p.add_argument("--slo-ms", type=float, required=True)
    p.add_argument("--failed", type=int, default=0)
    p.add_argument("--steady", default="", help="FROM,TO seconds of the run that must see no scaling action")
    p.add_argument("--name", required=True)
    p.add_argument("--out", required=True)
    a = p.parse_args()

    trace = read_trace(a.trace)
    duration = int(trace[-1][0])
    start, end = a.start, a.start + duration
    dims = {"autoscaling_group": a.group}
    in_service = query(a.admin, "GroupInServiceInstances", "Average", start, end, **dims)
    pending = query(a.admin, "GroupPendingInstances", "Average", start, end, **dims)
    terminating = query(a.admin, "GroupTerminatingInstances", "Average", start, end, **dims)
    arrivals = query(a.admin, "RequestCount", "Sum", start, end, listener=a.listener)
    p99 = query(a.admin, "RequestTime", "p99", start, end, listener=a.listener)

    rows = []
    for s in range(duration):
        t = start + s
        demand = max(1, math.ceil(rate_at(trace, s) / a.capacity))
        supply = in_service.get(t)
        if supply is None:
            continue
        rows.append({"s": s, "demand": demand, "supply": supply, "pending": pending.get(t, 0),
                     "terminating": terminating.get(t, 0), "rate": arrivals.get(t, 0),
                     "p99_ms": p99.get(t, 0) * 1000 if t in p99 else None})
    if len(rows) < 2:
        print("elasticity: no data for the run", file=sys.stderr)
        return 1
    T = len(rows)
    under = sum(max(r["demand"] - r["supply"], 0) / r["demand"] for r in rows) * 100 / T
    over = sum(max(r["supply"] - r["demand"], 0) / r["demand"] for r in rows) * 100 / T
    under_share = sum(r["supply"] < r["demand"] for r in rows) * 100 / T
    over_share = sum(r["supply"] > r["demand"] for r in rows) * 100 / T
    instability = sum(min(abs(sign(rows[i]["supply"] - rows[i - 1]["supply"]) -
                              sign(rows[i]["demand"] - rows[i - 1]["demand"])), 1)
                      for i in range(1, T)) * 100 / (T - 1)
    supply_changes = sum(rows[i]["supply"] != rows[i - 1]["supply"] for i in range(1, T))
    demand_changes = sum(rows[i]["demand"] != rows[i - 1]["demand"] for i in range(1, T))
    jitter = (supply_changes - demand_changes) * 60 / T  # per minute
    slo_violation = sum(1 for r in rows if r["p99_ms"] is not None and r["p99_ms"] > a.slo_ms)
    instance_seconds = sum(r["supply"] + r["pending"] + r["terminating"] for r in rows)

    # Each demand increase: seconds until in-service capacity reaches it.
    reactions = []
    for i in range(1, T):
        if rows[i]["demand"] > rows[i - 1]["demand"]:
            need = rows[i]["demand"]
            done = next((r["s"] for r in rows[i:] if r["supply"] >= need), None)
            reactions.append((rows[i]["s"], None if done is None else done - rows[i]["s"]))

    acts = activities(a.admin, a.group)
    launches = [x for x in acts if x["description"].startswith("Launching") and x["status"] == "Successful"
                and x.get("end_time")]
    startup = sorted(unix(x["end_time"]) - unix(x["start_time"]) for x in launches
                     if start <= unix(x["start_time"]) < end)
    instance_start = startup[len(startup) // 2] if startup else 0
    actions_in_steady = []
    if a.steady:
        lo, hi = (int(x) for x in a.steady.split(","))
        actions_in_steady = [x for x in acts if start + lo <= unix(x["start_time"]) < start + hi]

    os.makedirs(a.out, exist_ok=True)
    dat = os.path.join(a.out, a.name + ".dat")
    with open(dat, "w") as f:
        f.write("# s demand supply pending rate p99_ms\n")
        for r in rows:
            f.write(f'{r["s"]} {r["demand"]} {r["supply"]} {r["pending"]} {r["rate"]} '
                    f'{r["p99_ms"] if r["p99_ms"] is not None else "NaN"}\n')
    png = os.path.join(a.out, a.name + ".png")
    script = f"""
set terminal png size 1100,700
set output '{png}'
set multiplot layout 2,1 title 'ballast bench-autoscale: {a.name} profile'
set ylabel 'instances'
set key top left
set grid
plot '{dat}' using 1:2 with steps lw 2 title 'demand (rate / one instance within SLO)', \\
     '' using 1:3 with steps lw 2 title 'supply (in service)', \\
     '' using 1:4 with steps lw 1 title 'pending'
set ylabel 'ms / requests per s'
set xlabel 'seconds'
set logscale y
plot '{dat}' using 1:6 with lines title 'p99 request time (ms)', \\
     '' using 1:5 with lines title 'arrivals / s', {a.slo_ms} with lines dt 2 title 'SLO'
unset multiplot
"""
    plotted = subprocess.run(["gnuplot"], input=script, text=True).returncode == 0

    print(f"\n== {a.name} profile: {T} s, one instance serves {a.capacity:.0f}/s within p99 {a.slo_ms:.0f} ms")
    print(f"  under-provisioning accuracy  {under:6.1f} %    timeshare {under_share:5.1f} %")
    print(f"  over-provisioning accuracy   {over:6.1f} %    timeshare {over_share:5.1f} %")
    print(f"  instability                  {instability:6.1f} %")
    print(f"  jitter                       {jitter:+6.2f} adaptations/min (supply {supply_changes}, demand {demand_changes})")
    for at, took in reactions:
        print(f"  demand up at {at:4d} s: capacity in service after "
              + ("never" if took is None else f"{took} s"))
    print(f"  instance start (launch to InService, median) {instance_start} s")
    print(f"  SLO violated                 {slo_violation} s")
    print(f"  failed requests              {a.failed}")
    print(f"  instance-seconds             {instance_seconds:.0f}")
    goals = []
    worst = max((t for _, t in reactions if t is not None), default=0)
    if any(t is None for _, t in reactions):
        goals.append("FAIL capacity never caught up with a demand increase")
    else:
        goals.append(("ok  " if worst <= 5 + instance_start else "FAIL") +
                     f" new capacity in service within 5 s + instance start ({instance_start} s): worst {worst} s")
    goals.append(("ok  " if a.failed == 0 else "FAIL") + f" zero failed requests: {a.failed}")
    if a.steady:
        goals.append(("ok  " if not actions_in_steady else "FAIL") +
                     f" no scaling action in the steady phase ({a.steady} s): {len(actions_in_steady)}")
    for g in goals:
        print("  goal: " + g)
    print(f"  plot: {png}" if plotted else "  (gnuplot failed; no plot)")
    return 0 if all(g.startswith("ok") for g in goals) else 2


if __name__ == "__main__":
    sys.exit(main())
