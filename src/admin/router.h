#pragma once
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "admin/admin_server.h"

namespace ballast::admin {

// A request the client got wrong: the status that says how (400, 404, 409, 422...) and a
// message that says what. Handlers throw it; AdminServer maps it to its status. Any other
// exception is ballast's fault: a 500 and a log line, never a status that blames the client.
class ClientError : public std::runtime_error {
 public:
  ClientError(int status, const std::string& message)
      : std::runtime_error(message), status_(status) {}
  int status() const { return status_; }

 private:
  int status_;
};

// The values a route's {name} segments took, by name.
class PathParams {
 public:
  void add(std::string_view name, std::string value) {
    values_.emplace_back(std::string(name), std::move(value));
  }
  // The value of `{name}`; a route asking for a name its pattern lacks is a bug (logic_error).
  const std::string& operator[](std::string_view name) const;

 private:
  std::vector<std::pair<std::string, std::string>> values_;
};

// The admin API's routes: (method, path pattern, handler), in one table. A pattern is a
// path whose segments are literals or `{name}` (any one non-empty segment), such as
// "/api/v1/target-groups/{group}/targets/{address}/drain". A request goes to the first route
// that matches its path and method; a path that only other methods match is a 405 naming
// them; no match is a 404.
class Router {
 public:
  using Handler = std::function<AdminResponse(const PathParams&, const AdminRequest&)>;

  void add(std::string method, std::string_view pattern, Handler handler);
  AdminResponse dispatch(const AdminRequest& request) const;

 private:
  struct Segment {
    std::string text;  // the literal, or the parameter's name
    bool parameter = false;
  };
  struct Route {
    std::string method;
    std::vector<Segment> segments;
    Handler handler;
  };
  // Whether `route` matches the path `segments`, filling `params` when it does.
  static bool matches(const Route& route, const std::vector<std::string_view>& segments,
                      PathParams* params);

  std::vector<Route> routes_;
};

// A path split at "/", empty segments dropped ("/api//v1/" -> "api", "v1").
std::vector<std::string_view> split_path(std::string_view path);

}  // namespace ballast::admin
