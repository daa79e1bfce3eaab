// The long-poll reader: GET comet?c=&p=&s=0 on one keep-alive connection.
#include "reader.h"

#include <optional>

#include "nchan.h"

namespace chaton::bench {

namespace {

// The comet long-poll on one keep-alive connection: GET comet?c=&p=&s=0,
// answered at once with a cid, then again after every reply.
class CometReader final : public Reader {
 public:
  CometReader(Worker& w, uint32_t index, net::ip::address_v4 source)
      : Reader(w, index, source, false), sock_(w.ioc) {}

 private:
  tcp::socket& fresh_socket() override { return sock_; }
  tcp::socket& socket() override { return sock_; }
  void on_connected() override { send(); }

  void send() {
    req_.clear();
    if (nchan()) {
      // Nchan's long-poll: the next message is the one after the validators
      // of the last reply.
      req_ = "GET " + nchan_sub_target(Transport::comet) + " HTTP/1.1\r\nHost: " + host() + "\r\n" +
             cursor_.request_headers() + "\r\n";
      net::async_write(sock_, net::buffer(req_), current([this](beast::error_code ec, size_t n) {
                         if (ec) return fail("write: " + ec.message());
                         count_bytes_out(n);
                         mark_waiting();
                         read();
                       }));
      return;
    }
    req_ += "GET /lobby/comet?t=";
    req_ += std::to_string(requests_++);
    req_ += "&c=";
    req_ += std::to_string(have_cid_ ? cid_ : 0);
    req_ += "&p=";
    req_ += std::to_string(pos_);
    req_ += "&s=0 HTTP/1.1\r\nHost: ";
    req_ += host();
    req_ += "\r\n\r\n";
    net::async_write(sock_, net::buffer(req_), current([this](beast::error_code ec, size_t n) {
                       if (ec) return fail("write: " + ec.message());
                       count_bytes_out(n);
                       if (have_cid_) mark_waiting();
                       read();
                     }));
  }

  void read() {
    parser_.emplace();
    parser_->body_limit(kMaxPacketBytes);
    http::async_read(sock_, buf_, *parser_,
                     current([this](beast::error_code ec, size_t n) { on_read(ec, n); }));
  }

  void on_read(beast::error_code ec, size_t n) {
    if (ec) return fail("read: " + ec.message());
    int64_t now = arrival(sock_);
    count_bytes_in(n);
    const Response& res = parser_->get();
    if (nchan() &&
        (res.result() == http::status::not_modified || res.result() == http::status::request_timeout)) {
      ++w_.empty_replies;  // Nchan's long-poll timed out: ask again
    } else {
      if (res.result() != http::status::ok) return fail(fmt("comet: HTTP %u", res.result_int()));
      if (nchan() && !cursor_.take(res[http::field::last_modified], res[http::field::etag]))
        return fail("nchan long-poll: a message without Last-Modified and Etag");
      if (!on_packet(res.body(), now)) return;
    }
    if (!res.keep_alive()) return fail("comet: server closed the connection");
    send();
  }

  RxStampedSocket sock_;
  LongPollCursor cursor_;  // Nchan only
  std::optional<http::response_parser<http::string_body>> parser_;
  std::string req_;
  uint64_t requests_ = 0;
};

}  // namespace

std::unique_ptr<Reader> make_comet_reader(Worker& w, uint32_t index, net::ip::address_v4 source) {
  return std::make_unique<CometReader>(w, index, source);
}

}  // namespace chaton::bench
