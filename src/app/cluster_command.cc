// `ballast cluster import|export|status`: the shared configuration in etcd, from the
// command line. Import checks the file as `ballast check` does (and refuses the sections
// that belong to each node's own file), then stores it with a compare-and-swap on the
// key's revision, so two imports that race cannot silently overwrite each other.
#include <cstdio>
#include <fstream>
#include <sstream>

#include "app/commands.h"
#include "cluster/cluster_view.h"
#include "cluster/etcd_client.h"
#include "cluster/etcd_codec.h"
#include "cluster/node.h"
#include "config/config_loader.h"

namespace ballast::app {

namespace {

// The etcd endpoints and prefix: from the flags, else from a node's file.
bool resolve_target(ClusterCommandOptions& o, std::string* error) {
  if (!o.node_config.empty()) {
    config::LoadResult node = config::load_config_file(o.node_config);
    if (!node.config) {
      *error = o.node_config + ": " +
               (node.errors.errors().empty() ? "invalid" : node.errors.errors()[0].to_string());
      return false;
    }
    if (!node.config->cluster.enabled) {
      *error = o.node_config + " has no cluster section";
      return false;
    }
    // The node's TLS settings and user go with its endpoints (or with those --etcd gives).
    o.access = node.config->cluster.etcd;
    if (o.etcd.empty()) o.etcd = o.access.endpoints;
    if (o.prefix.empty()) o.prefix = node.config->cluster.prefix;
  }
  if (o.etcd.empty()) o.etcd = {"http://127.0.0.1:2379"};
  if (o.prefix.empty()) o.prefix = "/ballast";
  for (const auto& url : o.etcd) {
    http::HttpUrl parsed;
    if (!http::parse_http_url(url, &parsed, error, http::Schemes::kHttpOrHttps)) return false;
  }
  o.access.endpoints = o.etcd;
  return true;
}

std::string read_file_text(const std::string& path, bool* ok) {
  std::ifstream in(path);
  *ok = static_cast<bool>(in);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Runs one conversation with etcd on a loop of its own; `start` makes the first call and
// the callbacks chain the rest, then call `finish`.
int converse(const ClusterCommandOptions& o,
             const std::function<void(cluster::EtcdClient&, std::function<void(int)>)>& start) {
  core::EventLoop loop;
  cluster::EtcdClient etcd(loop, o.access, 5000);
  int code = 1;
  loop.post([&] {
    loop.update_time();
    start(etcd, [&](int c) {
      code = c;
      loop.stop();
    });
  });
  loop.run();
  return code;
}

int import_config(const ClusterCommandOptions& o, const cluster::ClusterKeys& keys) {
  bool ok = false;
  std::string text = read_file_text(o.config, &ok);
  if (!ok) {
    fprintf(stderr, "%s: cannot read the file\n", o.config.c_str());
    return 1;
  }
  config::LoadResult checked = config::check_shared_config(text, o.config);
  if (!checked.config) {
    for (const auto& e : checked.errors.errors()) fprintf(stderr, "%s\n", e.to_string().c_str());
    fprintf(stderr, "%s: %zu error(s); nothing imported\n", o.config.c_str(),
            checked.errors.errors().size());
    return 1;
  }
  return converse(o, [&](cluster::EtcdClient& etcd, std::function<void(int)> finish) {
    etcd.call("/v3/kv/range", cluster::range_request(keys.config, false),
              [&etcd, &keys, &text, &o, finish](const cluster::Reply& r) {
                if (!r.ok) {
                  fprintf(stderr, "%s\n", r.error.c_str());
                  return finish(1);
                }
                cluster::RangeReply found = cluster::parse_range(r.body);
                int64_t seen = found.kvs.empty() ? 0 : found.kvs[0].mod_revision;
                if (!found.kvs.empty() && found.kvs[0].value == text) {
                  printf("%s: unchanged (%s at revision %lld)\n", o.config.c_str(),
                         keys.config.c_str(), static_cast<long long>(seen));
                  return finish(0);
                }
                cluster::Compare c{keys.config, cluster::Compare::Target::kModRevision, seen, ""};
                cluster::Operation put{cluster::Operation::Kind::kPut, keys.config, text, 0, false};
                etcd.call("/v3/kv/txn", cluster::txn_request({c}, {put}, {}),
                          [&keys, &o, finish](const cluster::Reply& t) {
                            if (!t.ok) {
                              fprintf(stderr, "%s\n", t.error.c_str());
                              return finish(1);
                            }
                            cluster::TxnReply txn = cluster::parse_txn(t.body);
                            if (!txn.succeeded) {
                              fprintf(stderr,
                                      "%s changed while importing (someone else imported); "
                                      "nothing imported: run it again\n",
                                      keys.config.c_str());
                              return finish(1);
                            }
                            printf("%s: imported as %s, revision %lld\n", o.config.c_str(),
                                   keys.config.c_str(),
                                   static_cast<long long>(txn.header.revision));
                            finish(0);
                          });
              });
  });
}

int export_config(const ClusterCommandOptions& o, const cluster::ClusterKeys& keys) {
  return converse(o, [&](cluster::EtcdClient& etcd, std::function<void(int)> finish) {
    etcd.call("/v3/kv/range", cluster::range_request(keys.config, false),
              [&keys, finish](const cluster::Reply& r) {
                if (!r.ok) {
                  fprintf(stderr, "%s\n", r.error.c_str());
                  return finish(1);
                }
                cluster::RangeReply found = cluster::parse_range(r.body);
                if (found.kvs.empty()) {
                  fprintf(stderr, "%s: no configuration imported yet\n", keys.config.c_str());
                  return finish(1);
                }
                fwrite(found.kvs[0].value.data(), 1, found.kvs[0].value.size(), stdout);
                finish(0);
              });
  });
}

}  // namespace

int cluster_command(ClusterCommandOptions options) {
  std::string error;
  if (!resolve_target(options, &error)) {
    fprintf(stderr, "%s\n", error.c_str());
    return 2;
  }
  cluster::ClusterKeys keys(options.prefix);
  try {
    if (options.action == "import") return import_config(options, keys);
    if (options.action == "export") return export_config(options, keys);
  } catch (const cluster::CodecError& e) {
    fprintf(stderr, "etcd's answer: %s\n", e.what());
    return 1;
  }
  fprintf(stderr, "unknown action \"%s\": expected import or export\n", options.action.c_str());
  return 2;
}

}  // namespace ballast::app
