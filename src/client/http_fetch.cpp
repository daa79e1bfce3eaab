// The small HTTP client: see http_fetch.h.
#include "client/http_fetch.h"

#include <exception>
#include <optional>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

namespace chaton::client {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

namespace {

constexpr auto kTuple = net::as_tuple(net::use_awaitable);
constexpr int kHttpVersion = 11;
constexpr size_t kMaxReasonChars = 300;
constexpr std::string_view kDefaultUserAgent = "chaton/" CHATON_VERSION;

struct Endpoint {
  bool tls = false;
  std::string host;  // for the resolver: no brackets
  std::string port;
  std::string host_header;  // as in the URL: "[::1]:8080"
  std::string target;       // path and query, at least "/"
};

Result<Endpoint> parse_endpoint(std::string_view url) {
  auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed) return Status(Errc::invalid, "'" + std::string(url) + "' is not an absolute URL");
  boost::urls::url_view u = *parsed;
  Endpoint e;
  if (u.scheme() == "https") {
    e.tls = true;
  } else if (u.scheme() != "http") {
    return Status(Errc::invalid, "'" + std::string(url) + "': only http:// and https:// URLs work");
  }
  if (u.host_type() == boost::urls::host_type::ipv6) {
    e.host = u.host_ipv6_address().to_string();
  } else {
    e.host = u.host_address();
  }
  if (e.host.empty()) return Status(Errc::invalid, "'" + std::string(url) + "' names no host");
  auto port = u.port();
  auto host_and_port = u.encoded_host_and_port();
  auto target = u.encoded_target();
  e.port = u.has_port() ? std::string(port.data(), port.size()) : (e.tls ? "443" : "80");
  e.host_header.assign(host_and_port.data(), host_and_port.size());
  e.target.assign(target.data(), target.size());
  if (e.target.empty() || e.target.front() != '/') e.target.insert(0, "/");
  return e;
}

Status network_error(const HttpRequest& req, std::string_view step, const beast::error_code& ec) {
  std::string what = ec == beast::error::timeout ? "timed out" : ec.message();
  return Status(Errc::io, req.method + " " + req.url + ": " + std::string(step) + ": " + what);
}

bhttp::request<bhttp::string_body> build_request(const HttpRequest& req, const Endpoint& e) {
  bhttp::verb verb = req.method == "POST" ? bhttp::verb::post : bhttp::verb::get;
  bhttp::request<bhttp::string_body> r{verb, e.target, kHttpVersion};
  r.set(bhttp::field::host, e.host_header);
  r.set(bhttp::field::user_agent, req.user_agent.empty() ? kDefaultUserAgent : req.user_agent);
  r.set(bhttp::field::connection, "close");
  if (verb == bhttp::verb::post || !req.body.empty()) {
    r.set(bhttp::field::content_type, req.content_type);
    r.body() = req.body;
  }
  r.prepare_payload();
  return r;
}

template <class Stream>
net::awaitable<Result<HttpReply>> exchange(Stream& stream, const HttpRequest& req, const Endpoint& e) {
  auto message = build_request(req, e);
  auto [wec, written] = co_await bhttp::async_write(stream, message, kTuple);
  if (wec) co_return network_error(req, "sending", wec);
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(kMaxReplyBytes);
  auto [rec, read] = co_await bhttp::async_read(stream, buffer, parser, kTuple);
  if (rec) co_return network_error(req, "reading the reply", rec);
  auto& res = parser.get();
  HttpReply reply;
  reply.status = res.result_int();
  reply.content_type = std::string(res[bhttp::field::content_type]);
  reply.body = std::move(res.body());
  co_return reply;
}

Status setup_tls(ssl::context& ctx, const HttpRequest& req) {
  boost::system::error_code ec;
  ctx.set_verify_mode(ssl::verify_peer, ec);
  if (!ec) {
    if (req.ca_file.empty()) {
      ctx.set_default_verify_paths(ec);
    } else {
      ctx.load_verify_file(req.ca_file, ec);
    }
  }
  if (ec) return Status(Errc::io, req.url + ": TLS setup: " + ec.message());
  return Status::ok();
}

net::awaitable<Result<HttpReply>> fetch_tls(beast::tcp_stream tcp, const HttpRequest& req,
                                            const Endpoint& e) {
  ssl::context ctx(ssl::context::tls_client);
  if (Status st = setup_tls(ctx, req); !st) co_return st;
  beast::ssl_stream<beast::tcp_stream> stream(std::move(tcp), ctx);
  if (!SSL_set_tlsext_host_name(stream.native_handle(), e.host.c_str())) {
    co_return Status(Errc::io, req.url + ": TLS setup: cannot set the server name");
  }
  stream.set_verify_callback(ssl::host_name_verification(e.host));
  auto [hec] = co_await stream.async_handshake(ssl::stream_base::client, kTuple);
  if (hec) co_return network_error(req, "TLS handshake", hec);
  co_return co_await exchange(stream, req, e);
}

}  // namespace

net::awaitable<Result<HttpReply>> fetch(HttpRequest req) {
  auto endpoint = parse_endpoint(req.url);
  if (!endpoint) co_return endpoint.status();
  const Endpoint& e = *endpoint;
  auto executor = co_await net::this_coro::executor;
  tcp::resolver resolver(executor);
  auto [dec, results] = co_await resolver.async_resolve(e.host, e.port, kTuple);
  if (dec) co_return network_error(req, "resolving " + e.host, dec);
  beast::tcp_stream tcp(executor);
  tcp.expires_after(req.timeout);  // one deadline for the rest of the exchange
  auto [cec, peer] = co_await tcp.async_connect(results, kTuple);
  if (cec) co_return network_error(req, "connecting", cec);
  if (e.tls) co_return co_await fetch_tls(std::move(tcp), req, e);
  auto reply = co_await exchange(tcp, req, e);
  beast::error_code ignored;
  tcp.socket().shutdown(tcp::socket::shutdown_both, ignored);
  co_return reply;
}

Result<HttpReply> fetch_blocking(HttpRequest request) {
  std::optional<Result<HttpReply>> out;
  try {
    net::io_context ioc;
    net::co_spawn(
        ioc, [&]() -> net::awaitable<void> { out.emplace(co_await fetch(std::move(request))); },
        net::detached);
    ioc.run();
  } catch (const std::exception& e) {
    return Status(Errc::io, request.url + ": " + e.what());
  }
  if (!out) return Status(Errc::io, request.url + ": the request did not complete");
  return std::move(*out);
}

std::string form_encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                 c == '_' || c == '.' || c == '~';
    if (plain) {
      out.push_back(ch);
    } else if (c == ' ') {
      out.push_back('+');
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  return out;
}

std::string reply_reason(const HttpReply& reply) {
  std::string fallback = "HTTP " + std::to_string(reply.status);
  auto phrase = bhttp::obsolete_reason(static_cast<bhttp::status>(reply.status));
  if (!phrase.empty() && phrase != "<unknown-status>") fallback += " " + std::string(phrase);
  bool plain = reply.content_type.empty() || reply.content_type.starts_with("text/plain");
  if (!plain) return fallback;
  std::string_view body = reply.body;
  size_t start = body.find_first_not_of(" \t\r\n");
  if (start == std::string_view::npos) return fallback;
  body.remove_prefix(start);
  body = body.substr(0, body.find_first_of("\r\n"));
  while (!body.empty() && (body.back() == ' ' || body.back() == '\t')) body.remove_suffix(1);
  return std::string(body.substr(0, kMaxReasonChars));
}

Errc errc_for_status(unsigned status) {
  switch (status) {
    case 400:
    case 401:
    case 405:
      return Errc::invalid;
    case 403:
      return Errc::forbidden;
    case 404:
    case 410:
      return Errc::not_found;
    case 413:
      return Errc::too_large;
    case 429:
      return Errc::rate_limited;
    default:
      return Errc::io;
  }
}

}  // namespace chaton::client
