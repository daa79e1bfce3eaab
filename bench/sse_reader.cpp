// The Server-Sent Events reader: GET events?p=POS through SseSplitter.
#include "reader.h"

#include <array>
#include <charconv>
#include <optional>

#include "sse_splitter.h"

namespace chaton::bench {

namespace {

// Server-Sent Events: GET events?p=POS, one packet per event, the event's
// id being the packet's pos.
class SseReader final : public Reader {
 public:
  SseReader(Worker& w, uint32_t index, net::ip::address_v4 source)
      : Reader(w, index, source, true), sock_(w.ioc) {}

 private:
  tcp::socket& fresh_socket() override {
    parser_.reset();
    events_.reset();
    return sock_;
  }
  tcp::socket& socket() override { return sock_; }

  void on_connected() override {
    req_ = "GET " + target(Transport::sse, "/lobby/events?p=" + std::to_string(pos_)) +
           " HTTP/1.1\r\nHost: " + host() + "\r\nAccept: text/event-stream\r\n\r\n";
    net::async_write(sock_, net::buffer(req_), current([this](beast::error_code ec, size_t n) {
                       if (ec) return fail("write: " + ec.message());
                       count_bytes_out(n);
                       parser_.emplace();
                       parser_->body_limit(boost::none);  // the stream has no end
                       http::async_read_header(
                           sock_, buf_, *parser_,
                           current([this](beast::error_code e, size_t h) { on_header(e, h); }));
                     }));
  }

  void on_header(beast::error_code ec, size_t n) {
    if (ec) return fail("read header: " + ec.message());
    count_bytes_in(n);
    const auto& res = parser_->get();
    if (res.result() != http::status::ok) return fail(fmt("events: HTTP %u", res.result_int()));
    if (!res[http::field::content_type].starts_with("text/event-stream"))
      return fail("events: not an event stream");
    if (nchan()) mark_waiting();  // Nchan sends no first event
    read_body();
  }

  void read_body() {
    auto& body = parser_->get().body();
    body.data = chunk_.data();
    body.size = chunk_.size();
    http::async_read_some(sock_, buf_, *parser_,
                          current([this](beast::error_code ec, size_t n) { on_body(ec, n); }));
  }

  void on_body(beast::error_code ec, size_t n) {
    if (ec == http::error::need_buffer) ec = {};  // the chunk_ is full: not an error
    if (ec) return fail("read: " + ec.message());
    int64_t now = arrival(sock_);
    count_bytes_in(n);
    size_t got = chunk_.size() - parser_->get().body().size;
    bool ok =
        events_.feed(std::string_view(chunk_.data(), got), [&](std::string_view id, std::string_view data) {
          if (!on_packet(data, now)) return false;
          if (nchan()) {  // its ids are its own; kept to resume from
            nchan_id_ = id;
            return true;
          }
          uint64_t event_id = 0;
          auto r = std::from_chars(id.data(), id.data() + id.size(), event_id);
          if (r.ec != std::errc() || event_id != pos_) {
            fail("events: event id '" + std::string(id) + "' is not the packet's pos");
            return false;
          }
          mark_waiting();
          return true;
        });
    if (!ok) return;
    if (parser_->is_done()) return fail("events: the server ended the stream");
    read_body();
  }

  RxStampedSocket sock_;
  std::optional<http::response_parser<http::buffer_body>> parser_;
  std::array<char, kStreamReadBytes> chunk_;
  SseSplitter events_;
  std::string req_;
};

}  // namespace

std::unique_ptr<Reader> make_sse_reader(Worker& w, uint32_t index, net::ip::address_v4 source) {
  return std::make_unique<SseReader>(w, index, source);
}

}  // namespace chaton::bench
