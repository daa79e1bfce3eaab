// WebSocket sessions: see ws_session.h.
#include "http/ws_session.h"

#include <array>
#include <atomic>
#include <string>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include "http/handler_memory.h"
#include "http/responses.h"

namespace chaton::http {

namespace net = boost::asio;
namespace websocket = boost::beast::websocket;

namespace {

// A message is read into the session this many bytes at a time. A room's
// reader seldom sends (a message is a command, and short), and Beast's
// stream holds the frame's bytes in its own buffer meanwhile: a small
// piece costs a waiting reader little and a long message only more reads.
constexpr size_t kReadPieceBytes = 128;

template <class Stream>
class WsSession final : public WsChannel, public std::enable_shared_from_this<WsSession<Stream>> {
 public:
  WsSession(Stream&& stream, beast::flat_buffer&& buffer, std::shared_ptr<WsPeer> peer,
            const SessionLimits& limits, std::shared_ptr<ConnectionLimiter::Ticket> ticket)
      : ws_(std::move(stream)),
        buffer_(std::move(buffer)),
        peer_(std::move(peer)),
        queue_(
            ws_.get_executor(), kMaxStreamQueueBytes, std::move(ticket),
            [this](const StreamBytes& bytes, WriteQueue::Done done) { write(bytes, std::move(done)); },
            [this] { finish(); }) {
    ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    ws_.set_option(websocket::stream_base::decorator(
        [](websocket::response_type& res) { res.set(bhttp::field::server, kServerName); }));
    ws_.read_message_max(limits.max_body_bytes);
  }

  void run(Request req) {
    // The upgrade request was read by the HTTP session; answer it here.
    ws_.async_accept(req, [self = this->shared_from_this()](beast::error_code ec) {
      if (ec) return self->finish();
      self->open_ = true;
      // The upgrade request's read buffer is not kept: a client sends no
      // frame before it has the handshake's answer (RFC 6455, section 4.1).
      self->buffer_.clear();
      self->buffer_.shrink_to_fit();
      self->queue_.open();
      self->queue_.start();
      self->peer_->on_open(self);
      self->do_read();
    });
  }

  net::any_io_executor executor() override { return ws_.get_executor(); }

  bool send(StreamBytes text, std::function<void()> written, bool catch_up) override {
    if (closing_.load()) return false;
    auto pushed =
        queue_.push(StreamChunk{std::move(text), std::move(written), catch_up, {}}, this->shared_from_this());
    if (pushed == WriteQueue::Pushed::over) close(kWsCloseTryAgainLater, kWsTooSlowReason);
    return pushed == WriteQueue::Pushed::queued;
  }

  void close(uint16_t code, std::string reason) override {
    if (closing_.exchange(true)) return;
    net::post(ws_.get_executor(), [self = this->shared_from_this(), code, r = std::move(reason)] {
      if (!self->open_) return self->finish();
      self->ws_.async_close(websocket::close_reason(static_cast<websocket::close_code>(code), r),
                            [self](beast::error_code) { self->finish(); });
    });
  }

 private:
  // Reads the next message a piece at a time into a small fixed buffer and
  // gathers it in message_: a reader waiting for a message holds no read
  // buffer (Beast's dynamic-buffer read prepares one before any byte
  // comes). read_message_max still bounds a message.
  void do_read() {
    ws_.async_read_some(net::buffer(read_piece_),
                        with_memory(read_memory_, [self = this->shared_from_this()](beast::error_code ec,
                                                                                    std::size_t n) {
                          if (ec) return self->finish();
                          if (!self->ws_.got_text()) {
                            self->message_ = std::string();
                            self->close(kWsClosePolicy, "text frames only");
                            return;
                          }
                          self->message_.append(self->read_piece_.data(), n);
                          if (!self->ws_.is_message_done()) return self->do_read();
                          std::string text = std::move(self->message_);
                          self->message_ = std::string();
                          self->peer_->on_message(text);
                          self->do_read();
                        }));
  }

  // The queue's writer: one text frame, its parts gathered into one write.
  void write(const StreamBytes& bytes, WriteQueue::Done done) {
    ws_.text(true);
    if (!write_memory_) write_memory_ = std::make_unique<HandlerMemory>();
    ws_.async_write(bytes.buffers(),
                    with_memory(*write_memory_, [self = this->shared_from_this(), done = std::move(done)](
                                                    beast::error_code ec, std::size_t) {
                      done(!ec);
                      // No next frame started: a reader that waits holds no write block.
                      if (self->write_memory_ && !self->write_memory_->in_use()) self->write_memory_.reset();
                    }));
  }

  void finish() {
    closing_.store(true);
    if (finished_) return;
    finished_ = true;
    // The frames not yet written never will be: let go of their callbacks
    // (they hold the reader) and of their charges (the connection is closing).
    queue_.stop();
    peer_->on_close();
  }

  // The memory of the frame being written (made for a write, let go of
  // when no next one follows) and of the read under way (each chain runs
  // one operation at a time); declared before the stream.
  std::unique_ptr<HandlerMemory> write_memory_;
  HandlerMemory read_memory_;
  websocket::stream<Stream> ws_;
  beast::flat_buffer buffer_;  // what the HTTP session read; let go of once open
  std::array<char, kReadPieceBytes> read_piece_;
  std::string message_;  // the message being read, while its pieces come
  std::shared_ptr<WsPeer> peer_;
  // Frames waiting to be written; it holds the ticket (this connection's
  // place under the caps) for the session's life.
  WriteQueue queue_;
  std::atomic<bool> closing_{false};
  bool open_ = false;
  bool finished_ = false;
};

}  // namespace

template <class Stream>
void start_websocket(Stream&& stream, beast::flat_buffer&& buffer, Request req, std::shared_ptr<WsPeer> peer,
                     const SessionLimits& limits, std::shared_ptr<ConnectionLimiter::Ticket> ticket) {
  auto s = std::make_shared<WsSession<Stream>>(std::forward<Stream>(stream), std::move(buffer),
                                               std::move(peer), limits, std::move(ticket));
  s->run(std::move(req));
}

template void start_websocket<net::ip::tcp::socket>(net::ip::tcp::socket&&, beast::flat_buffer&&, Request,
                                                    std::shared_ptr<WsPeer>, const SessionLimits&,
                                                    std::shared_ptr<ConnectionLimiter::Ticket>);
template void start_websocket<beast::ssl_stream<net::ip::tcp::socket>>(
    beast::ssl_stream<net::ip::tcp::socket>&&, beast::flat_buffer&&, Request, std::shared_ptr<WsPeer>,
    const SessionLimits&, std::shared_ptr<ConnectionLimiter::Ticket>);

}  // namespace chaton::http
