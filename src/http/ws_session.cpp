// WebSocket sessions: see ws_session.h.
//
// The session speaks the protocol itself over the connection's socket (or
// TLS stream): the frames are http/ws_frame.h's, the handshake's answer
// http/ws_handshake.h's. Its parts:
//  - reading: a small fixed piece at a time into the FrameReader, which
//    hands back whole text messages, pings, pongs, the client's close or a
//    failure; a waiting reader holds the piece and the reader's few bytes;
//  - writing: one gathered write at a time, of the control frames waiting
//    (pong, ping, close) and then the frame the WriteQueue gave, its head
//    made here before the shared payload, which is never copied;
//  - one timer: the handshake's answer, the keep-alive (a silent connection
//    is pinged, and closed when it stays silent), the closing handshake and
//    the TLS shutdown are each bounded by it in turn.
// The session ends once, in finish(): a read or write error, the closing
// handshake done or timed out, a failure of the client's frames, the
// keep-alive finding it gone, or its queue cut. finish() closes the
// connection and tells the peer.
#include "http/ws_session.h"

#include <array>
#include <atomic>
#include <string>
#include <type_traits>

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "http/handler_memory.h"
#include "http/ws_frame.h"
#include "http/ws_handshake.h"
#include "util/time_source.h"

namespace chaton::http {

namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

// A message is read this many bytes at a time. A room's reader seldom
// sends (a message is a command, and short): a small piece costs a
// waiting reader little, and a long message only more reads.
constexpr size_t kReadPieceBytes = 128;

// Keep-alive (RFC 6455 section 5.5.2): a connection from which nothing came
// for a whole interval is pinged; when nothing comes for the interval after
// the ping either, the client is gone and the connection is closed.
constexpr std::chrono::seconds kWsKeepAliveInterval{150};
// How long a close frame this server sent waits for the client's answer
// (RFC 6455 section 7.1.1) before the connection is closed anyway, and how
// long a TLS shutdown may take.
constexpr std::chrono::seconds kWsCloseWait{5};
constexpr std::chrono::seconds kTlsShutdownWait{2};

template <class Stream>
constexpr bool kIsTls = std::is_same_v<Stream, beast::ssl_stream<tcp::socket>>;

template <class Stream>
class WsSession final : public WsChannel, public std::enable_shared_from_this<WsSession<Stream>> {
 public:
  WsSession(Stream&& stream, beast::flat_buffer&& buffer, std::shared_ptr<WsPeer> peer,
            const SessionLimits& limits, std::shared_ptr<ConnectionLimiter::Ticket> ticket)
      : stream_(std::move(stream)),
        buffer_(std::move(buffer)),
        reader_(limits.max_body_bytes),
        time_(limits.time ? *limits.time : RealTimeSource::instance()),
        handshake_timeout_(limits.idle_timeout),
        peer_(std::move(peer)),
        queue_(
            stream_.get_executor(), kMaxStreamQueueBytes, std::move(ticket),
            [this](const StreamBytes& bytes, WriteQueue::Done done) { write(bytes, std::move(done)); },
            [this] { finish(); }) {}

  // Answers the upgrade request, which the HTTP session read.
  void run(const Request& req) {
    auto res = std::make_shared<Response>(websocket_handshake_response(req));
    const bool accepted = res->result() == bhttp::status::switching_protocols;
    arm_timer(handshake_timeout_, &WsSession::finish);
    bhttp::async_write(stream_, *res,
                       [self = this->shared_from_this(), res, accepted](beast::error_code ec, std::size_t) {
                         if (ec || !accepted) return self->finish();
                         self->open();
                       });
  }

  net::any_io_executor executor() override { return stream_.get_executor(); }

  bool send(StreamBytes text, std::function<void()> written, bool catch_up) override {
    if (closing_.load()) return false;
    auto pushed =
        queue_.push(StreamChunk{std::move(text), std::move(written), catch_up, {}}, this->shared_from_this());
    if (pushed == WriteQueue::Pushed::over) close(kWsCloseTryAgainLater, kWsTooSlowReason);
    return pushed == WriteQueue::Pushed::queued;
  }

  void close(uint16_t code, std::string reason) override {
    if (closing_.exchange(true)) return;
    net::post(stream_.get_executor(), [self = this->shared_from_this(), code, r = std::move(reason)] {
      if (self->state_ != State::open) return self->finish();
      self->begin_close(ws::close_frame(code, r), /*then_end=*/false);
    });
  }

 private:
  enum class State {
    handshake,  // the 101 is being written
    open,       // frames both ways
    closing,    // a close frame is queued or sent: no more data frames
    ended,      // finish() ran
  };

  void open() {
    state_ = State::open;
    heard_ = true;
    arm_timer(kWsKeepAliveInterval, &WsSession::on_keep_alive);
    queue_.open();
    queue_.start();
    peer_->on_open(this->shared_from_this());
    // A client should send no frame before it has the handshake's answer
    // (RFC 6455 section 4.1), but what came with the request is read first.
    beast::flat_buffer early = std::move(buffer_);
    auto bytes = early.data();
    if (!take(static_cast<const uint8_t*>(bytes.data()), bytes.size())) return;
    do_read();
  }

  // ---- reading

  void do_read() {
    stream_.async_read_some(
        net::buffer(read_piece_),
        with_memory(read_memory_, [self = this->shared_from_this()](beast::error_code ec, std::size_t n) {
          if (ec) return self->finish();
          self->heard_ = true;
          if (self->take(self->read_piece_.data(), n)) self->do_read();
        }));
  }

  // Hands `size` bytes to the frame reader and acts on each event; false
  // when no more is to be read (the client closed, or failed the protocol).
  bool take(const uint8_t* data, size_t size) {
    for (;;) {
      ws::FrameReader::Event ev;
      size_t used = reader_.read(data, size, ev);
      data += used;
      size -= used;
      if (ev.kind == ws::FrameReader::Event::Kind::none) return state_ != State::ended;
      if (!on_event(ev)) return false;
    }
  }

  bool on_event(ws::FrameReader::Event& ev) {
    using Kind = ws::FrameReader::Event::Kind;
    switch (ev.kind) {
      case Kind::text:
        if (state_ == State::open) peer_->on_message(ev.payload);
        return state_ != State::ended;
      case Kind::ping:
        if (state_ == State::open) send_control(ws::control_frame(ws::Opcode::pong, ev.payload));
        return true;
      case Kind::pong:
      case Kind::none:
        return true;
      case Kind::close:
        // Our close answered: the closing handshake is done. Else answer
        // theirs with its code (RFC 6455 section 5.5.1) and end.
        if (state_ == State::closing) {
          finish();
        } else {
          closing_.store(true);
          begin_close(ws::close_frame(ev.code, ""), /*then_end=*/true);
        }
        return false;
      case Kind::failure:
        closing_.store(true);
        if (state_ == State::closing) {
          finish();
        } else {
          begin_close(ws::close_frame(ev.code, ev.payload), /*then_end=*/true);
        }
        return false;
    }
    return false;
  }

  // ---- writing

  // The queue's writer: one text frame, written once the control frames
  // before it are.
  void write(const StreamBytes& bytes, WriteQueue::Done done) {
    data_ = &bytes;
    data_done_ = std::move(done);
    pump();
  }

  void send_control(std::string frame) {
    control_ += frame;
    pump();
  }

  // Starts the next write, if none is under way: every control frame
  // waiting, then the data frame, in one gathered write.
  void pump() {
    if (writing_ || state_ == State::ended || (control_.empty() && !data_)) return;
    writing_ = true;
    control_writing_.swap(control_);
    std::array<net::const_buffer, 5> parts;
    size_t n = 0;
    if (!control_writing_.empty()) parts[n++] = net::buffer(control_writing_);
    const bool with_close = close_queued_ && !close_written_;
    const bool with_data = data_ && !with_close;
    if (with_data) {
      size_t head = ws::frame_head(ws::Opcode::text, data_->size(), head_);
      parts[n++] = net::buffer(head_.data(), head);
      for (const net::const_buffer& b : data_->buffers()) parts[n++] = b;
    }
    data_in_flight_ = with_data;
    if (!write_memory_) write_memory_ = std::make_unique<HandlerMemory>();
    net::async_write(stream_, parts,
                     with_memory(*write_memory_, [self = this->shared_from_this(), with_close, with_data](
                                                     beast::error_code ec, std::size_t) {
                       self->on_written(ec, with_close, with_data);
                     }));
  }

  void on_written(beast::error_code ec, bool with_close, bool with_data) {
    writing_ = false;
    data_in_flight_ = false;
    std::string().swap(control_writing_);
    if (with_close) close_written_ = true;
    if (with_data) {
      data_ = nullptr;
      WriteQueue::Done done = std::move(data_done_);
      data_done_ = nullptr;
      done(!ec);  // may hand over the next frame (pumped below)
    }
    // No next frame started: a reader that waits holds no write block.
    if (write_memory_ && !write_memory_->in_use() && !writing_) write_memory_.reset();
    if (ec || (with_close && end_after_close_)) return finish();
    pump();
  }

  // Queues a close frame: no data frame follows it. `then_end`: the
  // connection ends once it is written (an answer to the client's close, or
  // a failure); else the client's answer is awaited, kWsCloseWait at most.
  void begin_close(std::string frame, bool then_end) {
    state_ = State::closing;
    close_queued_ = true;
    end_after_close_ = then_end;
    queue_.stop();
    drop_waiting_frame();
    arm_timer(then_end ? handshake_timeout_ : kWsCloseWait, &WsSession::finish);
    send_control(std::move(frame));
  }

  // The frame the queue handed over but not yet under way is not written.
  void drop_waiting_frame() {
    if (!data_ || data_in_flight_) return;
    data_ = nullptr;
    WriteQueue::Done done = std::move(data_done_);
    data_done_ = nullptr;
    done(false);  // the queue has stopped: it only gives back the frame's charge
  }

  // ---- the timer

  void arm_timer(MonoDuration delay, void (WsSession::*on_fire)()) {
    if (!timer_) timer_ = time_.make_timer(stream_.get_executor());
    timer_->arm(delay, [weak = this->weak_from_this(), on_fire] {
      if (auto self = weak.lock()) ((*self).*on_fire)();
    });
  }

  // Each interval: heard from, all is well; silent, a ping (armed before it
  // is sent, so that its answer always meets the next interval); silent
  // since the ping, the client is gone.
  void on_keep_alive() {
    if (state_ != State::open) return;
    if (!heard_ && pinged_) return finish();
    pinged_ = !heard_;
    heard_ = false;
    arm_timer(kWsKeepAliveInterval, &WsSession::on_keep_alive);
    if (pinged_) send_control(ws::control_frame(ws::Opcode::ping, ""));
  }

  // ---- the end

  // The one way a session ends (later calls do nothing): the queue stops,
  // the peer hears of it, the connection closes.
  void finish() {
    closing_.store(true);
    if (state_ == State::ended) return;
    state_ = State::ended;
    // The frames not yet written never will be: let go of their callbacks
    // (they hold the reader) and of their charges (the connection is closing).
    queue_.stop();
    drop_waiting_frame();
    peer_->on_close();
    close_connection();
  }

  void close_connection() {
    tcp::socket& socket = beast::get_lowest_layer(stream_);
    beast::error_code ec;
    if constexpr (kIsTls<Stream>) {
      // A write still under way (a client that stopped reading) would hold
      // close_notify behind it for good: close at once then.
      if (!writing_) {
        arm_timer(kTlsShutdownWait, &WsSession::close_socket);
        stream_.async_shutdown(
            [self = this->shared_from_this()](beast::error_code) { self->close_socket(); });
        return;
      }
    } else {
      socket.shutdown(tcp::socket::shutdown_both, ec);
    }
    socket.close(ec);
  }

  void close_socket() {
    if (timer_) timer_->cancel();
    beast::error_code ec;
    beast::get_lowest_layer(stream_).close(ec);
  }

  // The memory of the frame being written (made for a write, let go of
  // when no next one follows) and of the read under way (each chain runs
  // one operation at a time); declared before the stream.
  std::unique_ptr<HandlerMemory> write_memory_;
  HandlerMemory read_memory_;
  Stream stream_;
  beast::flat_buffer buffer_;  // what the HTTP session read after the request; let go of once open
  ws::FrameReader reader_;
  std::array<uint8_t, kReadPieceBytes> read_piece_;
  TimeSource& time_;
  MonoDuration handshake_timeout_;
  std::unique_ptr<Timer> timer_;
  std::shared_ptr<WsPeer> peer_;
  // Frames waiting to be written; it holds the ticket (this connection's
  // place under the caps) for the session's life.
  WriteQueue queue_;
  // Writing: control frames waiting and under way, the data frame the queue
  // handed over (its bytes stay alive until `data_done_` runs) and its head.
  std::string control_;
  std::string control_writing_;
  const StreamBytes* data_ = nullptr;
  WriteQueue::Done data_done_;
  std::array<uint8_t, ws::kMaxFrameHead> head_{};
  bool writing_ = false;
  bool data_in_flight_ = false;
  bool close_queued_ = false;
  bool close_written_ = false;
  bool end_after_close_ = false;
  // Keep-alive: something came since the last tick; a ping is out.
  bool heard_ = false;
  bool pinged_ = false;
  State state_ = State::handshake;
  std::atomic<bool> closing_{false};
};

}  // namespace

template <class Stream>
void start_websocket(Stream&& stream, beast::flat_buffer&& buffer, Request req, std::shared_ptr<WsPeer> peer,
                     const SessionLimits& limits, std::shared_ptr<ConnectionLimiter::Ticket> ticket) {
  auto s = std::make_shared<WsSession<Stream>>(std::forward<Stream>(stream), std::move(buffer),
                                               std::move(peer), limits, std::move(ticket));
  s->run(req);
}

template void start_websocket<net::ip::tcp::socket>(net::ip::tcp::socket&&, beast::flat_buffer&&, Request,
                                                    std::shared_ptr<WsPeer>, const SessionLimits&,
                                                    std::shared_ptr<ConnectionLimiter::Ticket>);
template void start_websocket<beast::ssl_stream<net::ip::tcp::socket>>(
    beast::ssl_stream<net::ip::tcp::socket>&&, beast::flat_buffer&&, Request, std::shared_ptr<WsPeer>,
    const SessionLimits&, std::shared_ptr<ConnectionLimiter::Ticket>);

}  // namespace chaton::http
