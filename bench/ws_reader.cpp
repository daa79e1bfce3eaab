// The WebSocket reader: the upgrade to ws?p=POS, one packet per message.
#include "reader.h"

#include <optional>

namespace chaton::bench {

namespace {

// WebSocket: the upgrade to ws?p=POS, then one packet per text message.
class WsReader final : public Reader {
 public:
  WsReader(Worker& w, uint32_t index, net::ip::address_v4 source) : Reader(w, index, source, true) {
    ws_.emplace(w.ioc);
  }

 private:
  tcp::socket& fresh_socket() override {
    ws_.emplace(w_.ioc);  // a websocket stream that failed cannot be reused
    ws_->read_message_max(kMaxPacketBytes);
    return ws_->next_layer();
  }
  tcp::socket& socket() override { return ws_->next_layer(); }

  void on_connected() override {
    target_ = target(Transport::ws, "/lobby/ws?p=" + std::to_string(pos_));
    ws_->async_handshake(host(), target_, current([this](beast::error_code ec) {
                           if (ec) return fail("handshake: " + ec.message());
                           if (nchan()) mark_waiting();  // Nchan sends no first message
                           read();
                         }));
  }

  void read() {
    ws_->async_read(buf_, current([this](beast::error_code ec, size_t n) { on_message(ec, n); }));
  }

  void on_message(beast::error_code ec, size_t n) {
    if (ec) return fail("read: " + ec.message());
    int64_t now = arrival(ws_->next_layer());
    count_bytes_in(n + frame_header_bytes(n));
    if (!ws_->got_text()) return fail("ws: a binary message");
    bool ok = on_packet(std::string_view(static_cast<const char*>(buf_.data().data()), buf_.size()), now);
    buf_.consume(buf_.size());
    if (!ok) return;
    mark_waiting();
    read();
  }

  // The header of an unmasked server frame carrying n bytes (RFC 6455 5.2),
  // assuming one frame per message.
  static size_t frame_header_bytes(size_t n) { return n < 126 ? 2 : n <= 0xFFFF ? 4 : 10; }

  std::optional<websocket::stream<RxStampedSocket>> ws_;
  std::string target_;
};

}  // namespace

std::unique_ptr<Reader> make_ws_reader(Worker& w, uint32_t index, net::ip::address_v4 source) {
  return std::make_unique<WsReader>(w, index, source);
}

}  // namespace chaton::bench
