#pragma once
#include <optional>
#include <span>
#include <string_view>

namespace ballast::compress {

// The content codings ballast can apply to a response (RFC 9110 8.4.1).
enum class Coding { kGzip, kBrotli, kZstd };

// The token for Content-Encoding and Accept-Encoding: "gzip", "br", "zstd".
std::string_view coding_name(Coding coding);
std::optional<Coding> coding_from_name(std::string_view name);

// The coding to apply for a request's Accept-Encoding (RFC 9110 12.5.3): among `offered`,
// the one with the highest q-value, ties going to the earlier in `offered` (the server's
// preference); "*" stands for codings not named; q=0 refuses. None when the client takes
// none of them (or sent no Accept-Encoding, which leaves the choice to us: identity).
std::optional<Coding> choose_coding(std::string_view accept_encoding,
                                    std::span<const Coding> offered);

}  // namespace ballast::compress
