#pragma once
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace ballast::app {

struct AdminReply {
  int status = 0;
  std::string body;
};

// A blocking HTTP/1.1 client for the admin API, for `ballast ctl`: one request per
// connection, bounded by a 10 s timeout. Returns nullopt with `error` set when the
// server cannot be reached or answers something that is not HTTP.
std::optional<AdminReply> admin_request(const std::string& address, const std::string& token,
                                        const std::string& method, const std::string& path,
                                        const std::string& body, std::string* error);

// An admin API address and token, for commands that make several calls.
struct AdminEndpoint {
  std::string address;
  std::string token;
};

// GET `path` as JSON; nullopt with `error` (the API's own message on a 4xx/5xx).
std::optional<nlohmann::json> admin_get_json(const AdminEndpoint& api, const std::string& path,
                                             std::string* error);

// Percent-encodes a path segment ("[::1]:80" -> "%5B%3A%3A1%5D%3A80").
std::string encode_segment(const std::string& s);

}  // namespace ballast::app
