// ballast's live dashboard: polls the admin API every second and draws with uPlot.
// The page exposes what it drew (data-points on <body> and on each chart, data-updated on
// <body>) so a headless browser test can check that the charts hold data.
"use strict";

const WINDOW_S = 300;  // the charts show the last five minutes, one point per second
const token = new URLSearchParams(location.search).get("token");
const headers = token ? { Authorization: "Bearer " + token } : {};
const charts = {};
const palette = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b"];

async function api(path) {
  const response = await fetch(path, { headers });
  if (!response.ok) throw new Error(path + ": " + response.status);
  return response.json();
}

// One series from /api/v1/metrics/query as {time -> value}; empty when it has no data yet.
async function series(metric, dimensions, stat, start, end) {
  const query = new URLSearchParams({ metric, stat, period: "1", start, end, ...dimensions });
  try {
    const answer = await api("/api/v1/metrics/query?" + query);
    const result = answer.MetricDataResults[0];
    const points = new Map();
    result.Timestamps.forEach((t, i) => points.set(Date.parse(t) / 1000, result.Values[i]));
    return points;
  } catch (e) {
    return new Map();  // 404 until the series' first sample
  }
}

function chart(id, labels) {
  const key = id + "|" + labels.join(",");
  if (charts[id] && charts[id].key === key) return charts[id].plot;
  const element = document.getElementById(id);
  element.innerHTML = "";
  const opts = {
    width: Math.max(element.clientWidth, 500),
    height: 220,
    series: [{}].concat(labels.map((label, i) => ({ label, stroke: palette[i % palette.length], width: 2 }))),
    axes: [{}, { size: 60 }],
  };
  const plot = new uPlot(opts, [[]].concat(labels.map(() => [])), element);
  charts[id] = { key, plot };
  return plot;
}

// Draws `lines` (label -> Map(time -> value)) over the window; returns the points drawn.
function draw(id, lines, now) {
  const labels = Object.keys(lines);
  if (labels.length === 0) return 0;
  const times = [];
  for (let t = now - WINDOW_S; t < now; t++) times.push(t);
  let drawn = 0;
  const data = [times].concat(labels.map((label) => times.map((t) => {
    const v = lines[label].get(t);
    if (v === undefined) return null;
    drawn++;
    return v;
  })));
  chart(id, labels).setData(data);
  document.getElementById(id).dataset.points = String(drawn);
  return drawn;
}

function cell(text, className) {
  const td = document.createElement("td");
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function fillTargets(groups) {
  const body = document.querySelector("#targets tbody");
  body.innerHTML = "";
  for (const g of groups) {
    for (const t of g.targets) {
      const tr = document.createElement("tr");
      tr.append(cell(g.name), cell(t.address), cell(t.state, "state-" + t.state),
                cell(t.reason ? t.reason + (t.detail ? ": " + t.detail : "") : ""), cell(String(t.weight)));
      body.append(tr);
    }
  }
}

function fillAlarms(alarms) {
  const body = document.querySelector("#alarms tbody");
  body.innerHTML = "";
  if (alarms.length === 0) {
    const tr = document.createElement("tr");
    tr.append(cell("No alarms are configured.", "muted"));
    body.append(tr);
  }
  for (const a of alarms) {
    const tr = document.createElement("tr");
    tr.append(cell(a.name), cell(a.state, "state-" + a.state), cell(a.state_since), cell(a.reason));
    body.append(tr);
  }
}

// One block per autoscaling group: a capacity chart (desired, in service, pending) and
// the latest activities, newest first, with their causes.
function autoscalingBlock(name) {
  const id = "asg-" + name.replace(/[^A-Za-z0-9_-]/g, "_");
  let block = document.getElementById(id);
  if (block) return block;
  block = document.createElement("div");
  block.id = id;
  block.className = "asg";
  block.innerHTML = '<figure><figcaption></figcaption><div class="capacity-chart" id="' + id +
    '-chart"></div></figure><table class="activities"><thead><tr><th>Start</th><th>Status</th>' +
    '<th>Activity</th><th>Cause</th></tr></thead><tbody></tbody></table>';
  document.getElementById("autoscaling").append(block);
  return block;
}

async function drawAutoscaling(start, now) {
  const answer = await api("/api/v1/autoscaling-groups");
  const groups = answer.autoscaling_groups;
  document.getElementById("autoscaling-none").hidden = groups.length > 0;
  let points = 0;
  await Promise.all(groups.map(async (g) => {
    const block = autoscalingBlock(g.name);
    block.querySelector("figcaption").textContent = "Autoscaling group " + g.name + ": desired " +
      g.desired_capacity + " (min " + g.min_size + ", max " + g.max_size + "), " + g.in_service +
      " in service, " + g.pending + " pending" + (g.launch_problem ? " · launches failing: " + g.launch_problem : "");
    const dims = { autoscaling_group: g.name };
    const [desired, serving, pending] = await Promise.all([
      series("GroupDesiredCapacity", dims, "Average", start, now),
      series("GroupInServiceInstances", dims, "Average", start, now),
      series("GroupPendingInstances", dims, "Average", start, now)]);
    points += draw(block.querySelector(".capacity-chart").id,
                   { desired, "in service": serving, pending }, now);
    const history = await api("/api/v1/autoscaling-groups/" + encodeURIComponent(g.name) + "/activities");
    const body = block.querySelector(".activities tbody");
    body.innerHTML = "";
    for (const a of history.activities.slice(0, 12)) {
      const tr = document.createElement("tr");
      tr.append(cell(a.start_time), cell(a.status, "state-" + a.status), cell(a.description),
                cell(a.cause + (a.detail ? " (" + a.detail + ")" : "")));
      body.append(tr);
    }
  }));
  return points;
}

// The response cache, per rule that caches: hit ratio, bytes served from the store and
// evictions, each second. The section stays hidden while no rule caches.
async function drawCache(start, now) {
  const answer = await api("/api/v1/listeners");
  const rules = [];
  for (const l of answer.listeners) {
    l.rules.forEach((r, i) => { if (r.cache) rules.push({ listener: l.name, rule: String(i) }); });
  }
  document.getElementById("cache").hidden = rules.length === 0;
  const ratio = {}, bytes = {}, evictions = {};
  await Promise.all(rules.map(async (r) => {
    const label = r.listener + " rule " + r.rule;
    const [hits, misses, served, evicted] = await Promise.all([
      series("CacheHitCount", r, "Sum", start, now),
      series("CacheMissCount", r, "Sum", start, now),
      series("CacheBytesServed", r, "Sum", start, now),
      series("CacheEvictionCount", r, "Sum", start, now)]);
    const percent = new Map();
    for (const [t, h] of hits) {
      const total = h + (misses.get(t) || 0);
      if (total > 0) percent.set(t, 100 * h / total);
    }
    ratio[label] = percent;
    bytes[label] = served;
    evictions[label] = evicted;
  }));
  return draw("chart-cache-hits", ratio, now) + draw("chart-cache-bytes", bytes, now) +
         draw("chart-cache-evictions", evictions, now);
}

// A node of a cluster: every node as etcd lists it, the autoscaler's leader, and how
// current this node's configuration is. Hidden on a node that runs alone.
async function drawCluster() {
  const c = await api("/api/v1/cluster");
  document.getElementById("cluster").hidden = !c.enabled;
  if (!c.enabled) return;
  const etcd = c.etcd.reachable && c.etcd.watching
    ? "etcd connected (" + c.etcd.endpoint + ")"
    : "etcd unreachable: " + (c.etcd.last_error || "connecting") + "; serving the last configuration";
  document.getElementById("cluster-summary").textContent =
    "This node: " + c.node + " · " + etcd + " · configuration revision " + c.config.revision +
    (c.config.age_seconds > 0 ? ", " + c.config.age_seconds + " s old" : ", current") +
    (c.config.rejected ? " · rejected: " + c.config.rejected : "") +
    " · autoscaler leader: " + (c.leader.node || "none (election under way)");
  const body = document.querySelector("#cluster-nodes tbody");
  body.innerHTML = "";
  for (const n of c.nodes) {
    const tr = document.createElement("tr");
    const role = (n.name === c.leader.node ? "leader" : "follower") + (n.self ? " (this node)" : "");
    tr.append(cell(n.name), cell(n.zone || ""), cell(n.address || ""), cell(n.admin || ""),
              cell(role, n.name === c.leader.node ? "state-leader" : ""));
    tr.dataset.node = n.name;
    body.append(tr);
  }
}

// Database endpoints: each member's role and lag, what each endpoint does with it, the lag
// over time and the latest role changes. Hidden without a databases section. The tables are
// refilled only once every answer is in, so a refresh never shows them empty.
async function drawDatabases(start, now) {
  const answer = await api("/api/v1/databases");
  const databases = answer.databases || [];
  document.getElementById("databases").hidden = databases.length === 0;
  if (databases.length === 0) return 0;
  // Fetched together, keyed in member order (the chart's legend keeps its order).
  const replicas = databases.flatMap((d) => d.members.filter((m) => m.role === "replica").map((m) => [d, m]));
  const lagSeries = await Promise.all(replicas.map(([d, m]) =>
    series("ReplicaLagBytes", { database: d.name, member: m.name }, "Maximum", start, now)));
  const lag = {};
  replicas.forEach(([d, m], i) => { lag[d.name + "/" + m.name] = lagSeries[i]; });
  const members = [];
  const changes = [];
  for (const d of databases) {
    for (const m of d.members) {
      const tr = document.createElement("tr");
      const reader = m.reader.state + (m.reader.reason !== "none" ? " (" + m.reader.detail + ")" : "");
      tr.append(cell(d.name), cell(m.name), cell(m.address), cell(m.role, m.role === "unknown" ? "state-unhealthy" : ""),
                cell(String(m.timeline)),
                cell(m.role === "replica" ? m.lag_bytes + " B, " + m.lag_seconds.toFixed(1) + " s" : ""),
                cell(m.writer.state, "state-" + m.writer.state), cell(reader, "state-" + m.reader.state));
      tr.dataset.member = d.name + "/" + m.name;
      members.push(tr);
    }
    for (const a of d.activities) changes.push([a.time_unix_ms, d.name, a.cause, a.description]);
  }
  changes.sort((x, y) => y[0] - x[0]);
  const activities = changes.slice(0, 10).map(([t, name, cause, description]) => {
    const tr = document.createElement("tr");
    tr.append(cell(new Date(t).toLocaleTimeString()), cell(name), cell(cause), cell(description));
    return tr;
  });
  document.querySelector("#db-members tbody").replaceChildren(...members);
  document.querySelector("#db-activities tbody").replaceChildren(...activities);
  return draw("chart-db-lag", lag, now);
}

async function refresh() {
  const now = Math.floor(Date.now() / 1000);
  const start = now - WINDOW_S;
  try {
    const [groupsAnswer, alarmsAnswer, status] = await Promise.all([
      api("/api/v1/target-groups"), api("/api/v1/alarms"), api("/api/v1/status")]);
    const groups = groupsAnswer.target_groups;
    fillTargets(groups);
    fillAlarms(alarmsAnswer.alarms);
    const requests = {}, errors = {}, latency = {}, healthy = {};
    await Promise.all(groups.map(async (g) => {
      const dims = { target_group: g.name };
      const [r, e, p50, p95, p99, h] = await Promise.all([
        series("RequestCount", dims, "Sum", start, now),
        series("HTTPCode_Target_5XX_Count", dims, "Sum", start, now),
        series("TargetResponseTime", dims, "p50", start, now),
        series("TargetResponseTime", dims, "p95", start, now),
        series("TargetResponseTime", dims, "p99", start, now),
        series("HealthyHostCount", dims, "Average", start, now)]);
      requests[g.name] = r;
      errors[g.name] = e;
      latency[g.name + " p50"] = p50;
      latency[g.name + " p95"] = p95;
      latency[g.name + " p99"] = p99;
      healthy[g.name] = h;
    }));
    let points = 0;
    points += draw("chart-requests", requests, now);
    points += draw("chart-errors", errors, now);
    points += draw("chart-latency", latency, now);
    points += draw("chart-healthy", healthy, now);
    points += await drawAutoscaling(start, now);
    points += await drawCache(start, now);
    points += await drawDatabases(start, now);
    await drawCluster();
    document.body.dataset.points = String(points);
    document.body.dataset.updated = String(now);
    document.getElementById("status").textContent =
      "configuration " + status.config_generation + " · " + status.workers + " worker(s) · updated " +
      new Date(now * 1000).toLocaleTimeString();
  } catch (e) {
    document.getElementById("status").textContent = "cannot reach the admin API: " + e.message;
  }
}

refresh();
setInterval(refresh, 1000);
