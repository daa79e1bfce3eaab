#include "http_conn.h"

#include "metrics_text.h"
#include "nchan.h"

#include <stdexcept>

namespace chaton::bench {

net::awaitable<Response> HttpConn::request(std::string_view method, const std::string& target,
                                           std::string_view body) {
  std::string req = make_request(method, target, host_, body);
  for (int attempt = 0;; ++attempt) {
    beast::error_code ec;
    const char* where = "connect";
    if (!sock_.is_open()) {
      co_await sock_.async_connect(server_, net::redirect_error(net::use_awaitable, ec));
      if (!ec) sock_.set_option(tcp::no_delay(true), ec);
    }
    if (!ec) {
      where = "write";
      co_await net::async_write(sock_, net::buffer(req), net::redirect_error(net::use_awaitable, ec));
    }
    http::response_parser<http::string_body> parser;
    parser.body_limit(64u << 20);
    if (!ec) {
      where = "read";
      co_await http::async_read(sock_, buf_, parser, net::redirect_error(net::use_awaitable, ec));
    }
    if (!ec) {
      Response res = parser.release();
      if (!res.keep_alive()) close();
      co_return res;
    }
    close();
    if (attempt > 0 || method != "GET")
      throw std::runtime_error(std::string(method) + " " + target + ": " + where + ": " + ec.message());
  }
}

void HttpConn::close() {
  beast::error_code ec;
  sock_.close(ec);
  buf_.clear();
}

net::awaitable<RoomStatus> room_status(HttpConn& c, Peer peer) {
  if (peer == Peer::nchan) {
    Response res = co_await c.request("GET", nchan_pub_target());
    RoomStatus st;
    if (res.result() == http::status::not_found) {
      st.num_chatters = 0;
      co_return st;
    }
    auto n = nchan_subscribers(res.body());
    if (res.result() != http::status::ok || !n)
      throw std::runtime_error(
          fmt("nchan channel report: HTTP %u: %.200s", res.result_int(), res.body().c_str()));
    st.num_chatters = st.readers = *n;
    co_return st;
  }
  Response res = co_await c.request("GET", "/lobby/var/status.js");
  if (res.result() != http::status::ok) throw std::runtime_error(fmt("status.js: HTTP %u", res.result_int()));
  json::value v = json::parse(res.body());
  RoomStatus st;
  st.num_chatters = v.at("num-chatters").to_number<int64_t>();
  st.sequence = v.at("post-sequence").to_number<int64_t>();
  Response m = co_await c.request("GET", "/metrics");
  if (m.result() != http::status::ok) throw std::runtime_error(fmt("/metrics: HTTP %u", m.result_int()));
  st.readers = metric_sum(m.body(), "chaton_readers");
  co_return st;
}

// Posts one message; returns the HTTP status (200 = stored and synced).
net::awaitable<unsigned> post_message(HttpConn& c, const std::string& text, Peer peer) {
  if (peer == Peer::nchan) {
    Response res = co_await c.request("POST", nchan_pub_target(), text);
    unsigned code = res.result_int();
    co_return code == 201 || code == 202 ? 200 : code;
  }
  std::string body = "nick=bench&text=" + url_encode(text);
  Response res = co_await c.request("POST", "/lobby/post", body);
  co_return res.result_int();
}

}  // namespace chaton::bench
