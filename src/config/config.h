#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "acme/settings.h"
#include "cache/freshness.h"
#include "cache/key_policy.h"
#include "cache/store.h"
#include "compress/content_coding.h"
#include "config/alarm_rule.h"
#include "core/cron.h"
#include "core/fault_settings.h"
#include "core/ip_range.h"
#include "core/rate_limiter.h"
#include "core/socket_address.h"
#include "core/time_zone.h"
#include "h2/limits.h"
#include "lb/balancer_factory.h"
#include "tls/challenge_board.h"
#include "tls/client_context.h"
#include "tls/server_context.h"

namespace ballast::config {

// Where a value came from, for error messages that point at the file.
struct Location {
  int line = 0;    // 1-based
  int column = 0;  // 1-based
};

struct TargetConfig {
  std::string address_text;
  core::SocketAddress address;
  uint32_t weight = 1;
  Location location;
};

struct KeepaliveConfig {
  uint32_t max_idle_per_target = 64;  // idle upstream connections kept per target per worker
  int64_t idle_timeout_ms = 30000;    // an idle upstream connection is closed after this
};

// What hash-based algorithms hash: ring_hash and maglev take any of these; ip_hash
// always hashes the source address.
struct HashOn {
  enum class Kind { kSourceIp, kPath, kHeader, kCookie };
  Kind kind = Kind::kSourceIp;
  std::string name;  // header or cookie name
};

// Active health checks of every target of a group (absent: targets are always healthy).
struct HealthCheckConfig {
  enum class Protocol { kHttp, kTcp };
  bool enabled = false;
  Protocol protocol = Protocol::kHttp;
  std::string path = "/health";
  std::string method = "GET";
  std::string host;   // Host header; empty: the target's address
  uint16_t port = 0;  // 0: the target's own port
  std::vector<std::pair<int, int>> matcher = {{200, 399}};  // accepted status ranges
  int64_t interval_ms = 5000;
  int64_t timeout_ms = 2000;
  uint32_t healthy_threshold = 2;
  uint32_t unhealthy_threshold = 3;
  uint32_t jitter_percent = 10;  // each interval varies by up to this much, either way
  // The group's TLS to its targets (set by the loader from the group's `tls`): HTTP checks
  // go over it, as requests do (null: plain).
  std::shared_ptr<const tls::ClientContext> tls;
  std::string tls_server_name;
  Location location;
};

// Passive health: a target whose requests keep failing (5xx responses, connection
// failures, timeouts) is ejected for a while, on each worker that sees it.
struct OutlierDetectionConfig {
  bool enabled = false;
  uint32_t consecutive_failures = 5;
  int64_t base_ejection_ms = 30000;  // first ejection; the n-th lasts n times as long
  int64_t max_ejection_ms = 300000;
  uint32_t max_ejection_percent = 10;  // at least one target may always be ejected
  Location location;
};

// Limits across all workers; 0 means no limit.
struct CircuitBreakerConfig {
  uint64_t max_connections = 0;       // upstream connections open, idle ones included
  uint64_t max_pending_requests = 0;  // requests waiting for a new connection
  uint64_t max_requests = 0;          // requests in flight
};

// TLS from ballast to a group's targets.
struct TargetTlsConfig {
  bool enabled = false;
  std::string ca;           // CA bundle (relative to the configuration file); empty: the system's
  bool verify = true;       // false: any certificate (tests and labs only)
  std::string server_name;  // SNI, and the name the certificate must hold; empty: neither
  std::string cert, key;    // a client certificate (mutual TLS to targets); empty: none
  // Built by the loader; shared by every worker. `context` offers ALPN http/1.1 (requests
  // over HTTP/1.1, health checks, WebSocket upgrades); `h2_context`, built for a group
  // whose protocol_version is http2, offers h2.
  std::shared_ptr<const tls::ClientContext> context;
  std::shared_ptr<const tls::ClientContext> h2_context;
  Location location;
};

struct TargetGroupConfig {
  std::string name;
  // How requests reach the targets (ALB's ProtocolVersion): HTTP/1.1, a kept-alive
  // connection per request in flight; or HTTP/2 (h2c, or TLS with ALPN h2), requests
  // sharing a few connections as streams. WebSocket upgrades always go by HTTP/1.1.
  enum class ProtocolVersion { kHttp1, kHttp2 };
  ProtocolVersion protocol_version = ProtocolVersion::kHttp1;
  TargetTlsConfig tls;
  lb::Algorithm algorithm = lb::kDefaultAlgorithm;
  HashOn hash_on;
  int64_t connect_timeout_ms = 5000;
  int64_t request_timeout_ms = 60000;  // from sending the request to the end of the response
  KeepaliveConfig keepalive;
  HealthCheckConfig health_check;
  OutlierDetectionConfig outlier_detection;
  CircuitBreakerConfig circuit_breaker;
  // No healthy target: route to all of them (true, as ALB does) or answer 503.
  bool fail_open = true;
  // Retries of idempotent requests without a body whose connection to a target failed
  // (refused, reset before any response, connect timeout), each on another target.
  uint32_t retries = 1;
  // Response statuses that are retried on another target too (the response is dropped
  // unseen), under the same conditions; 504 also covers a try that met request_timeout.
  std::vector<int> retry_on_status;
  // All tries of one request together, from the first try until the response starts;
  // 0: no bound beyond request_timeout per try.
  int64_t total_timeout_ms = 0;
  uint32_t retry_budget_percent = 20;   // retries in progress, as a share of requests in flight
  uint32_t retry_min_concurrency = 10;  // retries always allowed in progress (per worker)
  // Stickiness: lb_cookie (ballast's cookie pins a client to a target for `duration`),
  // app_cookie (pins once the application sets `cookie_name`).
  struct Stickiness {
    enum class Type { kNone, kLbCookie, kAppCookie };
    Type type = Type::kNone;
    int64_t duration_ms = 86400000;
    std::string cookie_name;  // app_cookie: the application's cookie
  } stickiness;
  // A deregistered or drained target finishes its requests in flight for up to this long
  // before it is removed (ALB's deregistration_delay).
  int64_t deregistration_delay_ms = 30000;
  int64_t slow_start_ms = 0;  // 0: off
  uint32_t slow_start_min_percent = 10;
  Location slow_start_location;
  // What decides its targets' health: active checks (when configured; else every target
  // serves), or a database cluster's roles (the groups behind a database's endpoints: a
  // member serves only once its role is confirmed, and a member the endpoint must not reach
  // is fenced).
  enum class HealthSource { kChecks, kDatabaseRole };
  HealthSource health_source = HealthSource::kChecks;
  // tcp: how long a new connection waits for a target when none is available (a database's
  // writer endpoint during a switchover), instead of being closed at once. 0: no wait.
  int64_t hold_ms = 0;
  std::vector<TargetConfig> targets;
  Location location;
};

struct RuleMatch {
  std::optional<std::string> host;               // exact, case-insensitive; "*.example.com" allowed
  std::optional<std::string> path_prefix;        // "/api/"
  std::optional<std::string> path;               // exact path, without the query
  std::shared_ptr<const std::regex> path_regex;  // whole path, ECMAScript syntax
  std::vector<std::string> methods;              // any of these (empty: any method)
  std::vector<std::pair<std::string, std::string>> headers;  // name (any case) = exact value
  std::vector<std::pair<std::string, std::string>> query;    // parameter = exact value
};

// A rule's response header policy (CloudFront's response headers policy), applied to every
// response the rule gives: a target's, a fixed response, a redirect.
struct ResponseHeadersConfig {
  struct Field {
    // kSet replaces the target's field of that name; kAdd adds a line whatever the target
    // sent; kDefault (the security_headers preset) adds it only when the target did not.
    enum class Mode { kSet, kAdd, kDefault };
    std::string name, value;
    Mode mode = Mode::kSet;
  };
  std::vector<Field> fields;
  std::vector<std::string> remove;  // the target's fields of these names are dropped
  // "Name: value\r\n" of every field, for responses ballast writes itself (no target fields
  // to weigh against); built by validation.
  std::string own_response_lines;
  bool empty() const { return fields.empty() && remove.empty(); }
  Location location;
};

// A rule's rate limit: a token bucket per key (client address, a header's value, or one for
// the whole rule), shared by every worker.
struct RateLimitConfig {
  enum class Key { kClientIp, kHeader, kRule };
  bool enabled = false;
  uint64_t requests = 0;
  int64_t period_ms = 1000;
  uint64_t burst = 0;  // requests allowed at once after a quiet spell
  Key key = Key::kClientIp;
  std::string header;  // kHeader: its name (a request without it is keyed by client address)
  // Built by the loader, one per rule and configuration: a reload starts the buckets anew.
  std::shared_ptr<core::RateLimiter> limiter;
  Location location;
};

// A rule's fault injection (`fault: { id, delay, abort, reset }`), applied to the requests
// it forwards to targets (cache hits are answered without a target, and get none).
struct FaultConfig {
  bool enabled = false;
  std::string id;  // the admin API changes the fault by it (empty: only a reload does)
  int64_t delay_ms = 0;
  double delay_percent = 0;
  int abort_status = 503;
  double abort_percent = 0;
  double reset_percent = 0;
  // What the workers read: set from the values above by the loader, changed by the API.
  std::shared_ptr<core::FaultSettings> settings;
  Location location;
};

// A rule's response compression: the codings offered in order of preference, the media
// types compressed ("text/*" allowed) and the smallest body worth it.
struct CompressionConfig {
  bool enabled = false;
  std::vector<compress::Coding> codings = {compress::Coding::kBrotli, compress::Coding::kZstd,
                                           compress::Coding::kGzip};
  std::vector<std::string> types = {"text/*",          "application/json", "application/javascript",
                                    "application/xml", "application/wasm", "image/svg+xml"};
  uint64_t min_size = 1024;
  Location location;
};

// A rule's response cache (RFC 9111): what makes the key, the lifetimes it gives or bounds,
// and how it stores and shares fetches.
struct RuleCacheConfig {
  bool enabled = false;
  cache::TtlPolicy ttl;
  cache::KeyPolicy key;
  // Larger responses pass through without being stored (also bounded by the store: an
  // object takes at most a sixteenth of the memory).
  uint64_t max_object_size = 1 << 20;
  // How long concurrent misses for one key wait for the one fetch before each goes to the
  // target itself.
  int64_t lock_timeout_ms = 5000;
  // Counts for this rule's stored objects, which the store updates (evictions). A reload
  // gives the rule new ones.
  std::shared_ptr<cache::OwnerCounts> counts = std::make_shared<cache::OwnerCounts>();
  Location location;
};

struct RuleConfig {
  enum class Action { kForward, kFixedResponse, kRedirect };
  RuleMatch match;
  Action action = Action::kForward;
  // forward: one target group, or several with weights (blue/green, canary).
  struct ForwardTo {
    std::string target_group;
    uint32_t weight = 1;
    size_t target_group_index = 0;  // resolved by validation
    std::string path;               // "forward.target_group" or "forward[1].target_group"
    Location location;
  };
  std::vector<ForwardTo> forward;
  int status = 0;                    // fixed_response and redirect
  std::string content_type;          // fixed_response
  std::string body;                  // fixed_response
  std::string location_template;     // redirect: "https://#{host}#{path}?#{query}"
  std::optional<uint32_t> priority;  // lower first; rules without one follow, in file order
  // forward: also retry methods that are not idempotent (POST, PATCH) when bodiless.
  bool retry_non_idempotent = false;
  // Weighted forward: keep a client on the group it was sent to for this long (0: off).
  int64_t group_stickiness_ms = 0;
  ResponseHeadersConfig response_headers;
  RateLimitConfig rate_limit;
  CompressionConfig compression;
  RuleCacheConfig cache;
  FaultConfig fault;
  Location location;
};

struct HttpLimits {
  uint64_t max_request_line = 8 * 1024;
  uint64_t max_header_size = 32 * 1024;
  uint64_t max_headers = 100;
};

// What one client may hold of a listener: connections, time, body size. Each guards
// against a slow or greedy client (slowloris, slow POST, slow read); 0 means no limit.
struct ClientLimits {
  uint64_t max_connections = 0;             // open on the listener, all clients together
  uint32_t max_connections_per_client = 0;  // open from one client address
  uint64_t max_request_body = 0;            // bytes; beyond it 413
  // A request body must average at least this rate once `body_rate_grace` has passed
  // since its head (Kestrel's MinRequestBodyDataRate); beyond it 408.
  uint64_t min_body_bytes_per_second = 240;
  int64_t body_rate_grace_ms = 5000;
  // A response that the client does not read for this long (nothing could be sent)
  // closes the connection.
  int64_t send_timeout_ms = 60000;
};

// A listener's access log: one line per request.
struct AccessLogConfig {
  enum class Format { kJson, kCommon, kCombined };
  bool enabled = false;
  std::string path;  // a file, or "stdout"
  Format format = Format::kJson;
  Location location;
};

// One certificate of a TLS listener (paths relative to the configuration file).
struct TlsCertificateConfig {
  std::string cert;
  std::string key;
  std::string ocsp;  // a DER OCSP response to staple; empty: none
  bool is_default = false;
  Location location;
};

// Strict-Transport-Security on every response of a TLS listener (RFC 6797).
struct HstsConfig {
  int64_t max_age_s = 0;  // 0: no header
  bool include_subdomains = false;
  bool preload = false;
};

// TLS termination on a listener.
struct TlsConfig {
  bool enabled = false;
  tls::Policy policy = tls::Policy::kIntermediate;
  std::vector<TlsCertificateConfig> certificates;
  // Mutual TLS: clients present a certificate from this CA bundle (empty: not asked).
  std::string client_ca;
  bool client_certificate_required = true;
  // The verified client certificate's subject goes to targets in this header (a client's
  // own header of that name is always removed).
  std::string client_subject_header = "X-Client-Cert-Subject";
  // Automatic certificates (ACME): the listener's certificate comes from this CA and is
  // renewed by ballast; until the first one arrives a self-signed stand-in serves.
  std::optional<acme::Settings> acme;
  Location acme_location;
  HstsConfig hsts;
  std::string hsts_line;  // "Strict-Transport-Security: ...\r\n", or empty (derived)
  // Built by the loader from the files above: shared by every worker, immutable.
  std::shared_ptr<const tls::ServerContext> context;
  Location location;
};

struct ListenerConfig {
  // http: ballast reads requests and routes each by its rules; tcp: each connection is
  // relayed as bytes to a target of the one group the listener forwards to.
  enum class Protocol { kHttp, kTcp };
  // The PROXY protocol header ballast sends first on each connection to a target (tcp).
  enum class ProxyProtocol { kNone, kV1, kV2 };
  // Who moves a tcp connection's bytes: the kernel (an eBPF sockmap program, where the
  // kernel allows it; see src/kernel_relay/) or ballast's own relay.
  enum class Relay { kKernel, kUserSpace };
  std::string name;
  Protocol protocol = Protocol::kHttp;
  // Clients in these ranges start their connections with a PROXY protocol header (v1 or
  // v2), which names the real client; others may not send one. Empty: none do.
  std::vector<core::IpRange> accept_proxy_from;
  ProxyProtocol send_proxy_protocol = ProxyProtocol::kNone;
  Relay relay = Relay::kKernel;
  std::string bind_text;
  core::SocketAddress bind;
  Location bind_location;
  int64_t header_timeout_ms = 10000;  // to receive a complete request head
  int64_t idle_timeout_ms = 60000;    // a keep-alive client connection may stay idle this long
  HttpLimits limits;
  ClientLimits client_limits;
  AccessLogConfig access_log;
  TlsConfig tls;
  // HTTP/2 on this listener: offered by ALPN on TLS, and taken as prior knowledge (h2c)
  // on plain ones. `http2: false` leaves HTTP/1.1 only.
  struct Http2 {
    bool enabled = true;
    h2::Limits limits;
    Location location;
    bool configured = false;  // the file has an http2 entry (refused on tcp listeners)
  } http2;
  std::vector<RuleConfig> rules;
  Location location;
};

// The admin API (JSON over HTTP) and, later, the dashboard.
struct AdminConfig {
  bool enabled = true;
  std::string bind_text = "127.0.0.1:9901";
  core::SocketAddress bind;  // set by the loader
  std::string token;         // when set, requests need "Authorization: Bearer <token>"
  Location location;
};

// The in-memory time-series store behind /api/v1/metrics/query (and later alarms).
struct MetricsConfig {
  int64_t per_second_retention_ms = 3600 * 1000;       // 1-second datapoints
  int64_t per_minute_retention_ms = 24 * 3600 * 1000;  // 1-minute datapoints
};

// What an alarm does when it enters a state.
struct AlarmAction {
  enum class Kind { kLog, kWebhook };
  Kind kind = Kind::kLog;
  std::string url;              // webhook: http://host:port/path
  core::SocketAddress address;  // webhook: resolved when the file is read
  std::string host;             // webhook: the Host header
  std::string path;             // webhook: the request target
  Location location;
};

// A CloudWatch-style alarm: on a metric (metric + dimensions) with a statistic over
// periods, or a composite of other alarms (rule).
struct AlarmConfig {
  enum class Comparison { kGreater, kGreaterOrEqual, kLess, kLessOrEqual };
  enum class MissingData { kMissing, kNotBreaching, kBreaching, kIgnore };
  std::string name;
  std::string description;
  // Metric alarm.
  std::string metric;
  std::map<std::string, std::string> dimensions;
  std::string statistic = "Average";
  int64_t period_s = 60;
  uint32_t evaluation_periods = 1;
  uint32_t datapoints_to_alarm = 0;  // 0: same as evaluation_periods
  double threshold = 0;
  Comparison comparison = Comparison::kGreater;
  MissingData treat_missing_data = MissingData::kMissing;
  // Composite alarm: ALARM("a") AND NOT OK("b")...; empty for a metric alarm.
  std::string rule;
  std::shared_ptr<const AlarmRule> parsed_rule;  // set by validation
  // Actions by the state entered.
  std::vector<AlarmAction> on_alarm;
  std::vector<AlarmAction> on_ok;
  std::vector<AlarmAction> on_insufficient_data;
  Location location;
  Location rule_location;
};

// How an autoscaling group starts and stops its instances.
struct LaunchConfig {
  enum class Provider { kProcess, kExec };
  Provider provider = Provider::kProcess;
  // process: a shell command with {port}, {instance_id}, {zone}, {group} and {ballast}
  // (the path of this binary) replaced, run in its own process group.
  std::string command;
  std::string host = "127.0.0.1";  // where instances listen (the target's address)
  uint16_t port_first = 0;         // ports handed out, one per instance
  uint16_t port_last = 0;
  std::vector<std::pair<std::string, std::string>> environment;
  std::string working_directory;    // empty: ballast's own
  std::string log_directory;        // each instance's stdout/stderr: <dir>/<instance_id>.log
  int64_t stop_timeout_ms = 10000;  // SIGTERM, then SIGKILL after this long
  // exec: commands that read a JSON request on stdin and print a JSON answer.
  std::string launch_command;
  std::string terminate_command;
  std::string describe_command;
  int64_t command_timeout_ms = 60000;
  int64_t describe_interval_ms = 5000;
  // The whole block as written, so a change (an instance refresh's trigger) is seen.
  std::string fingerprint;
  Location location;
};

// What a target-tracking policy measures.
struct PolicyMetric {
  enum class Kind {
    kCpuUtilization,              // group average of the instances' CPU, percent of one core
    kRequestCountPerTarget,       // requests per second per instance
    kActiveConnectionsPerTarget,  // requests in flight per instance
    kLatencyP95,                  // the target group's response time, seconds
    kLatencyP99,
    kCustom,      // any series of the metrics store
    kCommand,     // a command that prints a number
    kHttpJson,    // an HTTP endpoint answering JSON; `json_path` picks the number
    kPrometheus,  // a Prometheus instant query
  };
  Kind kind = Kind::kCpuUtilization;
  // custom
  std::string metric;
  std::map<std::string, std::string> dimensions;
  std::string statistic = "Average";
  // command / http_json / prometheus
  std::string command;
  std::string url;        // http://host:port/path?query
  std::string json_path;  // "/data/queue/depth" (JSON pointer); empty: the body is the number
  std::string query;      // PromQL
  int64_t poll_interval_ms = 5000;
  // custom and external: the value is a total (a queue's depth) to divide by the
  // instances counted (backlog per instance); false: it is per instance already.
  bool per_instance = false;
  Location location;
};

// One step of a step-scaling policy: applies when the alarm's metric minus its threshold
// lies in [lower, upper).
struct StepConfig {
  std::optional<double> lower;  // inclusive; none: minus infinity
  std::optional<double> upper;  // exclusive; none: plus infinity
  double adjustment = 0;
};

struct ScalingPolicyConfig {
  enum class Type { kTargetTracking, kStepScaling, kSimpleScaling };
  enum class Adjustment { kChangeInCapacity, kExactCapacity, kPercentChangeInCapacity };
  std::string name;
  Type type = Type::kTargetTracking;
  // target_tracking
  PolicyMetric metric;
  double target = 0;
  double tolerance = 0.1;
  int64_t window_ms = 10000;  // the metric is averaged over this much recent time
  bool disable_scale_in = false;
  // step_scaling / simple_scaling: acts while `alarm` is in ALARM.
  std::string alarm;
  Adjustment adjustment_type = Adjustment::kChangeInCapacity;
  std::vector<StepConfig> steps;  // step_scaling
  double adjustment = 0;          // simple_scaling
  uint32_t min_adjustment_magnitude = 0;
  std::optional<int64_t> cooldown_ms;  // simple_scaling; default: the group's default_cooldown
  Location location;
};

// A scheduled action: at each time `cron` names (in `time_zone`), sets the sizes given.
struct ScheduledActionConfig {
  std::string name;
  std::string cron;  // "minute hour day-of-month month day-of-week"
  std::string time_zone = "UTC";
  std::shared_ptr<const core::CronSchedule> schedule;  // `cron`, parsed by the reader
  std::shared_ptr<const core::TimeZone> zone;          // `time_zone`, read by the reader
  std::optional<uint32_t> min_size;
  std::optional<uint32_t> max_size;
  std::optional<uint32_t> desired_capacity;
  Location location;
};

// A command run when an instance launches (before it takes traffic) or before it is
// terminated; when it fails or times out, `default_result` decides.
struct LifecycleHookConfig {
  enum class Transition { kLaunching, kTerminating };
  std::string name;
  Transition transition = Transition::kLaunching;
  std::string command;
  int64_t timeout_ms = 60000;
  bool default_continue = true;  // default_result: continue (true) or abandon
  Location location;
};

struct AutoScalingGroupConfig {
  enum class Termination { kOldestInstance, kNewestInstance, kOldestLaunchTemplate };
  std::string name;
  std::string target_group;
  size_t target_group_index = 0;  // resolved by validation
  uint32_t min_size = 1;
  uint32_t max_size = 1;
  std::optional<uint32_t> desired_capacity;  // default: min_size
  std::vector<std::string> zones = {"a"};
  int64_t health_check_grace_period_ms = 30000;
  int64_t instance_warmup_ms = 10000;
  int64_t default_cooldown_ms = 60000;
  int64_t max_instance_lifetime_ms = 0;  // 0: none
  int64_t scale_in_stabilization_ms = 300000;
  Termination termination_policy = Termination::kOldestLaunchTemplate;
  uint32_t max_scale_out_step = 0;          // instances per decision; 0: no bound
  uint32_t max_scale_out_step_percent = 0;  // or a share of current capacity
  uint32_t min_healthy_percentage = 90;     // instance refresh
  int64_t launch_backoff_initial_ms = 1000;
  int64_t launch_backoff_max_ms = 60000;
  LaunchConfig launch;
  std::vector<ScalingPolicyConfig> policies;
  std::vector<ScheduledActionConfig> scheduled;
  std::vector<LifecycleHookConfig> lifecycle_hooks;
  Location location;
};

// Where a database's reader endpoint sends connections when no replica is fresh enough.
enum class ReaderFallback { kWriter, kRefuse };

// How ballast reaches an etcd (a cluster's, Patroni's): its client URLs and, for an etcd
// that is secured, TLS (https:// endpoints) and a user (etcd's authentication).
struct EtcdAccess {
  std::vector<std::string> endpoints;  // "http://HOST:PORT", or all "https://HOST:PORT"
  std::string ca_file;                 // the CA etcd's certificate chains to ("": the system's)
  std::string cert_file;               // mutual TLS: a client certificate and its key
  std::string key_file;
  std::string username;  // "": no authentication
  std::string password;  // read from password_file when the file is loaded
  bool https() const { return !endpoints.empty() && endpoints.front().rfind("https://", 0) == 0; }
  bool operator==(const EtcdAccess&) const = default;
};

// A PostgreSQL cluster run by Patroni, and ballast's two endpoints for it (`databases:`;
// docs/databases.md). Each endpoint is a tcp listener with a group of the members, whose
// health is their role: the loader adds both as "NAME-writer" and "NAME-reader".
struct DatabaseConfig {
  struct Member {
    std::string name;  // Patroni's name for it; default: its address
    std::string address_text;
    core::SocketAddress address;  // PostgreSQL's
    std::string rest_url;         // Patroni's REST API: http://HOST:PORT
    Location location;
  };
  struct Endpoint {
    bool enabled = false;
    std::string bind_text;
    core::SocketAddress bind;
    Location location;
  };
  std::string name;
  // Who says which member is the primary: Patroni's agents (`patroni:`), or each PostgreSQL
  // itself (`postgres:`, pg_is_in_recovery(); nothing promotes a replica then).
  enum class RoleSource { kPatroni, kPostgres };
  RoleSource role_source = RoleSource::kPatroni;
  // kPostgres: how ballast logs in to ask (libpq; the password, if any, from a passfile).
  struct PostgresLogin {
    std::string user = "postgres";
    std::string dbname = "postgres";
    std::string password_file;
  } postgres;
  std::string scope;  // Patroni's scope (the cluster's name in its DCS)
  // Patroni's etcd (patroni.etcd): its leader key is watched, and without `members` the
  // members are found under NAMESPACE/SCOPE/members/.
  EtcdAccess etcd;  // no endpoints: none
  std::string patroni_namespace = "/service";
  std::vector<Member> members;      // empty: discovered from etcd
  int64_t check_interval_ms = 250;  // each member's agent is asked this often
  int64_t check_timeout_ms = 1000;
  Endpoint writer;
  // A new writer connection waits this long for a confirmed primary (a switchover, a
  // failover) before it is closed.
  int64_t hold_ms = 10000;
  Endpoint reader;
  uint64_t max_lag_bytes = 0;  // 0: no bound
  int64_t max_lag_ms = 0;      // 0: no bound
  ReaderFallback fallback = ReaderFallback::kWriter;
  lb::Algorithm reader_algorithm = lb::Algorithm::kLeastConnections;
  int64_t idle_timeout_ms = 350000;  // of client connections, as tcp listeners'
  ListenerConfig::Relay relay = ListenerConfig::Relay::kKernel;  // both endpoints'
  // How the writer's new connections reach the primary: through the relay above, or
  // (`relay: nat`) by the kernel's destination NAT straight to it, where the kernel can
  // (src/nat/); connections NAT cannot carry, and those held while there is no primary,
  // still go through the relay, in the kernel.
  enum class WriterPath { kRelay, kNat };
  WriterPath writer_path = WriterPath::kRelay;
  Location location;

  std::string writer_name() const { return name + "-writer"; }
  std::string reader_name() const { return name + "-reader"; }
};

// Several nodes sharing one configuration through etcd (`cluster:`; docs/cluster.md). In
// a node's own file; the shared sections come from etcd.
struct ClusterConfig {
  bool enabled = false;
  std::string node;  // this node's name, unique in the cluster
  std::string zone;
  // The host that listeners bind to where the shared configuration leaves it open
  // (0.0.0.0 or ::), so that nodes can share one machine; empty: as written.
  std::string address;
  EtcdAccess etcd;
  std::string prefix = "/ballast";
  std::string state_dir;  // default /var/lib/ballast/NODE
  int64_t etcd_timeout_ms = 2000;
  Location location;
};

struct Config {
  std::string source;  // the file it was read from
  AdminConfig admin;
  MetricsConfig metrics;
  unsigned workers = 0;  // 0 means one per core ("auto")
  int64_t shutdown_timeout_ms = 30000;
  std::vector<ListenerConfig> listeners;
  std::vector<TargetGroupConfig> target_groups;
  std::vector<AlarmConfig> alarms;
  std::vector<AutoScalingGroupConfig> autoscaling_groups;
  std::vector<DatabaseConfig> databases;
  // The process's ACME challenges (shared by every configuration it loads): HTTP listeners
  // answer HTTP-01 from it, TLS listeners with `acme` TLS-ALPN-01. Null: none answered.
  std::shared_ptr<tls::ChallengeBoard> acme_challenges;
  // The response cache's memory (`cache: { memory: 256MiB }`), and the store that rules
  // with a cache share: the process's, kept across reloads (null: no rule caches).
  uint64_t cache_memory = uint64_t{256} << 20;
  Location cache_location;
  // The cache's disk tier (`cache: { disk: { path, size } }`; empty path: none), so that a
  // restart starts warm. Read at start only.
  std::string cache_disk_path;
  uint64_t cache_disk_size = uint64_t{1} << 30;
  std::shared_ptr<cache::Store> cache_store;
  ClusterConfig cluster;
  // keepalived's track_file (`keepalived: { track_file: PATH }`): ballast writes 0 while it
  // serves and 1 while it is not ready or is stopping, so that the node gives up its virtual
  // IPs at once. Empty: none.
  std::string keepalived_track_file;
  Location keepalived_location;

  unsigned effective_workers() const;
};

}  // namespace ballast::config
