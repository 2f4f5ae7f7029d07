#include "compress/content_coding.h"

#include <charconv>

#include "http/headers.h"

namespace ballast::compress {

std::string_view coding_name(Coding coding) {
  switch (coding) {
    case Coding::kGzip:
      return "gzip";
    case Coding::kBrotli:
      return "br";
    case Coding::kZstd:
      return "zstd";
  }
  return "identity";
}

std::optional<Coding> coding_from_name(std::string_view name) {
  for (Coding c : {Coding::kGzip, Coding::kBrotli, Coding::kZstd}) {
    if (http::iequals(name, coding_name(c))) return c;
  }
  if (http::iequals(name, "x-gzip")) return Coding::kGzip;  // RFC 9110 8.4.1.3
  return std::nullopt;
}

namespace {
// A qvalue (RFC 9110 12.4.2) in thousandths: "1", "0.8", "0.125"; -1 when malformed.
int parse_qvalue(std::string_view v) {
  if (v.empty() || (v[0] != '0' && v[0] != '1')) return -1;
  int whole = v[0] - '0';
  int thousandths = 0;
  if (v.size() > 1) {
    if (v[1] != '.' || v.size() > 5) return -1;
    int scale = 100;
    for (char c : v.substr(2)) {
      if (c < '0' || c > '9') return -1;
      thousandths += (c - '0') * scale;
      scale /= 10;
    }
  }
  int q = whole * 1000 + thousandths;
  return q > 1000 ? -1 : q;
}

struct Weighed {
  std::string_view coding;
  int q;
};

// One list member: "br;q=0.8" -> {"br", 800}; parameters other than q are ignored.
Weighed parse_member(std::string_view member) {
  size_t semi = member.find(';');
  Weighed w{http::trim_ows(member.substr(0, semi)), 1000};
  while (semi != std::string_view::npos) {
    std::string_view rest = member.substr(semi + 1);
    semi = rest.find(';');
    std::string_view param = http::trim_ows(rest.substr(0, semi));
    if (param.size() >= 2 && (param[0] == 'q' || param[0] == 'Q') && param[1] == '=') {
      w.q = parse_qvalue(param.substr(2));
    }
    member = rest;
  }
  return w;
}
}  // namespace

std::optional<Coding> choose_coding(std::string_view accept_encoding,
                                    std::span<const Coding> offered) {
  if (http::trim_ows(accept_encoding).empty()) return std::nullopt;
  int best_q = 0;
  std::optional<Coding> best;
  for (Coding c : offered) {
    int named = -1, wildcard = -1;
    std::string_view list = accept_encoding;
    while (!list.empty()) {
      size_t comma = list.find(',');
      Weighed w = parse_member(list.substr(0, comma));
      if (w.q >= 0) {
        if (w.coding == "*") {
          wildcard = w.q;
        } else if (coding_from_name(w.coding) == c) {
          named = std::max(named, w.q);
        }
      }
      if (comma == std::string_view::npos) break;
      list.remove_prefix(comma + 1);
    }
    int q = named >= 0 ? named : wildcard;
    if (q > best_q) {
      best_q = q;
      best = c;
    }
  }
  return best;
}

}  // namespace ballast::compress
