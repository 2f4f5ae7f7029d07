#include "nat/nat_table.h"

#include <nftables/libnftables.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

namespace ballast::nat {

std::unique_ptr<NatTable> NatTable::create(std::string* why) {
  nft_ctx* ctx = nft_ctx_new(NFT_CTX_DEFAULT);
  if (ctx == nullptr) {
    *why = "libnftables could not start";
    return nullptr;
  }
  nft_ctx_buffer_output(ctx);
  nft_ctx_buffer_error(ctx);
  std::unique_ptr<NatTable> table(new NatTable(ctx, "ballast_" + std::to_string(getpid())));
  if (!table->run(table_script(table->name_), why)) return nullptr;
  return table;
}

NatTable::~NatTable() {
  // Closing the context's netlink socket deletes the table (it is the owner).
  nft_ctx_free(ctx_);
}

bool NatTable::run(const std::string& script, std::string* why) {
  if (nft_run_cmd_from_buffer(ctx_, script.c_str()) == 0) return true;
  std::string error = nft_ctx_get_error_buffer(ctx_);
  while (!error.empty() && error.back() == '\n') error.pop_back();
  *why = "nftables refused: " + (error.empty() ? std::string("no reason given") : error);
  return false;
}

bool NatTable::set_routes(const std::vector<NatRoute>& routes,
                          const std::vector<std::string>& counters, std::string* why) {
  std::set<std::string> next(counters.begin(), counters.end());
  for (const NatRoute& r : routes) next.insert(r.counter);
  std::vector<std::string> drop;
  for (const std::string& c : counters_) {
    if (next.count(c) == 0) drop.push_back(c);
  }
  std::string script =
      routes_script(name_, routes, std::vector<std::string>(next.begin(), next.end()), drop);
  if (script == applied_) return true;
  if (!run(script, why)) return false;
  applied_ = std::move(script);
  counters_ = std::move(next);
  return true;
}

std::map<std::string, uint64_t> NatTable::connections() {
  std::map<std::string, uint64_t> out;
  if (counters_.empty()) return out;
  unsigned flags = nft_ctx_output_get_flags(ctx_);
  nft_ctx_output_set_flags(ctx_, flags | NFT_CTX_OUTPUT_JSON);
  std::string ignored;
  bool ok = run("list counters table inet " + name_, &ignored);
  nft_ctx_output_set_flags(ctx_, flags);
  if (!ok) return out;
  auto doc = nlohmann::json::parse(nft_ctx_get_output_buffer(ctx_), nullptr, false);
  if (!doc.is_object() || !doc["nftables"].is_array()) return out;
  for (const auto& item : doc["nftables"]) {
    auto c = item.find("counter");
    if (c == item.end() || !c->is_object()) continue;
    out[c->value("name", "")] = c->value("packets", uint64_t{0});
  }
  return out;
}

}  // namespace ballast::nat
