// WebSocket sessions: see ws_session.h.
//
// The session speaks the protocol itself over the connection's socket (or
// TLS stream): the frames are http/ws_frame.h's, the handshake's answer
// http/ws_handshake.h's. Its parts:
//  - reading: a small fixed piece at a time into the FrameReader, which
//    hands back whole text messages, pings, pongs, the client's close or a
//    failure; a waiting reader holds the piece and the reader's few bytes;
//  - writing: one gathered write at a time, of the control frames waiting
//    (the latest pong, a keep-alive ping, our close) and then the frame the
//    WriteQueue gave, its head made here before the shared payload, which
//    is never copied; tried at once on a plain socket (http/write_now.h);
//  - one timer: the handshake's answer, the keep-alive (a silent connection
//    is pinged, and closed when it stays silent; a write that makes no
//    progress for a whole interval closes it too, since a client that
//    stopped reading may go on sending), the closing handshake, the linger
//    after it and the TLS shutdown are each bounded by it in turn.
// Closing (RFC 6455 section 7): whoever closes first, once both close
// frames have crossed (or ours answers a failure) a plain socket stops
// sending and reads on, dropping what comes, until the client closes, so
// that our close frame is not lost to a reset; a TLS stream shuts down.
// The session ends once, in finish(): a read or write error, the closing
// handshake done or timed out, the keep-alive finding the client gone, or
// its queue cut. finish() tells the peer and closes the connection.
#include "http/ws_session.h"

#include <array>
#include <atomic>
#include <string>
#include <type_traits>
#include <utility>

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "http/handler_memory.h"
#include "http/write_now.h"
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
    writing_ = true;
    bhttp::async_write(stream_, *res,
                       [self = this->shared_from_this(), res, accepted](beast::error_code ec, std::size_t) {
                         self->writing_ = false;
                         if (ec || !accepted || self->state_ == State::ended) return self->finish();
                         self->open();
                       });
  }

  net::any_io_executor executor() override { return stream_.get_executor(); }

  bool send(StreamBytes text, Callback written, bool catch_up) override {
    if (closing_.load()) return false;
    auto pushed =
        queue_.push(StreamChunk{std::move(text), std::move(written), catch_up, {}}, this->shared_from_this());
    if (pushed == WriteQueue::Pushed::over) close(kWsCloseTryAgainLater, kWsTooSlowReason);
    return pushed == WriteQueue::Pushed::queued;
  }

  void close(uint16_t code, std::string reason) override {
    if (closing_.exchange(true)) return;
    net::post(stream_.get_executor(), [self = this->shared_from_this(), code, r = std::move(reason)] {
      if (self->state_ == State::handshake) return self->finish();
      // Closing already (the client's close, a failure) or ended: that goes on.
      if (self->state_ != State::open) return;
      self->begin_close(ws::close_frame(code, r), /*then_end=*/false);
    });
  }

 private:
  enum class State {
    handshake,  // the 101 is being written
    open,       // frames both ways
    closing,    // a close frame is queued or sent: no more data frames
    lingering,  // (plain sockets) ours is sent and theirs came, or cannot:
                // what the client still sends is read and dropped until it
                // closes, so that our close frame is not lost to a reset
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
          if (ec || self->state_ == State::ended) return self->finish();
          self->heard_ = true;
          if (self->take(self->read_piece_.data(), n)) self->do_read();
        }));
  }

  // Hands `size` bytes to the frame reader and acts on each event; false
  // once the session has ended (after a close or a failure the reader takes
  // nothing more, and what still comes is read and dropped).
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

  // What the client sent, acted on; false once the session has ended.
  bool on_event(ws::FrameReader::Event& ev) {
    using Kind = ws::FrameReader::Event::Kind;
    if (state_ == State::ended) return false;
    switch (ev.kind) {
      case Kind::text:
        if (state_ == State::open) peer_->on_message(ev.payload);
        break;
      case Kind::ping:
        // Only the latest ping needs its answer (RFC 6455 section 5.5.3):
        // a client that pings and does not read holds one pong here, not
        // one per ping.
        if (state_ == State::open) {
          pong_ = ws::control_frame(ws::Opcode::pong, ev.payload);
          pump();
        }
        break;
      case Kind::pong:
      case Kind::none:
        break;
      case Kind::close:
      case Kind::failure:
        closing_.store(true);
        if (state_ == State::open) {
          // Their close is answered with its code (RFC 6455 section 5.5.1),
          // a failure with the code it calls for.
          begin_close(ws::close_frame(ev.code, ev.kind == Kind::close ? "" : ev.payload), /*then_end=*/true);
        } else if (close_written_) {
          linger();  // ours was answered (or cannot be): the handshake is over
        } else {
          end_after_close_ = true;  // ours is still to go out: then it is over
        }
        break;
    }
    return state_ != State::ended;
  }

  // ---- writing

  // The queue's writer: one text frame, written once the control frames
  // before it are.
  void write(const StreamBytes& bytes, WriteQueue::Done done) {
    data_ = &bytes;
    data_done_ = std::move(done);
    pump();
  }

  // Starts the next write, if none is under way: the control frames
  // waiting (the latest pong, a keep-alive ping, our close), then the data
  // frame, in one gathered write.
  void pump() {
    if (writing_ || state_ == State::ended || state_ == State::lingering) return;
    control_writing_ += pong_;
    std::string().swap(pong_);
    if (std::exchange(ping_due_, false)) control_writing_ += ws::control_frame(ws::Opcode::ping, "");
    const bool with_close = !close_frame_.empty();
    control_writing_ += close_frame_;
    std::string().swap(close_frame_);
    const bool with_data = data_ != nullptr;  // none once a close is queued (begin_close)
    if (control_writing_.empty() && !with_data) return;
    writing_ = true;
    ++writes_started_;
    std::array<net::const_buffer, 5> parts;
    size_t n = 0;
    parts[n++] = net::buffer(control_writing_);
    if (with_data) {
      size_t head = ws::frame_head(ws::Opcode::text, data_->size(), head_);
      parts[n++] = net::buffer(head_.data(), head);
      for (const net::const_buffer& b : data_->buffers()) parts[n++] = b;
    }
    data_in_flight_ = with_data;
    // Tried at once (http/write_now.h): frames the socket takes whole are
    // written here, and what they end runs here.
    beast::buffers_suffix<std::array<net::const_buffer, 5>> rest(parts);
    beast::error_code ec;
    if (write_now(stream_, rest, ec) != WrittenNow::part) return on_written(ec, with_close, with_data);
    if (!write_memory_) write_memory_ = std::make_unique<HandlerMemory>();
    net::async_write(stream_, rest,
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
    if (with_data) take_data()(!ec);  // may hand over the next frame (pumped below)
    // No next frame started: a reader that waits holds no write block.
    if (write_memory_ && !write_memory_->in_use() && !writing_) write_memory_.reset();
    if (ec) return finish();
    if (with_close && end_after_close_) return linger();
    pump();
  }

  // Queues a close frame: no data frame follows it. `then_end`: the
  // handshake is over once it is written (an answer to the client's close,
  // or a failure); else the client's answer is awaited, kWsCloseWait at most.
  void begin_close(std::string frame, bool then_end) {
    if (state_ != State::open) return;
    state_ = State::closing;
    end_after_close_ = then_end;
    queue_.stop();
    drop_waiting_frame();
    arm_timer(then_end ? handshake_timeout_ : kWsCloseWait, &WsSession::finish);
    close_frame_ = std::move(frame);
    pump();
  }

  // The closing handshake is over. A TLS stream ends (its shutdown says
  // goodbye); a plain socket stops sending, and reads and drops what the
  // client still sends (the reader takes nothing after a close) until the
  // client closes, or kWsCloseWait passes: closing with unread bytes would
  // reset the connection, and the client could lose our close frame.
  void linger() {
    if constexpr (kIsTls<Stream>) {
      finish();
    } else {
      if (state_ == State::lingering || state_ == State::ended) return;
      state_ = State::lingering;
      arm_timer(kWsCloseWait, &WsSession::finish);  // before the client can see the end
      beast::error_code ec;
      beast::get_lowest_layer(stream_).shutdown(tcp::socket::shutdown_send, ec);
      if (ec) return finish();
    }
  }

  // The frame the queue handed over but not yet under way is not written.
  void drop_waiting_frame() {
    if (data_ && !data_in_flight_)
      take_data()(false);  // the queue has stopped: it only gives back the charge
  }

  // Lets go of the frame the queue handed over; its Done, to call once.
  WriteQueue::Done take_data() {
    data_ = nullptr;
    return std::exchange(data_done_, nullptr);
  }

  // ---- the timer

  void arm_timer(MonoDuration delay, void (WsSession::*on_fire)()) {
    if (!timer_) timer_ = time_.make_timer(stream_.get_executor());
    timer_->arm(delay, [weak = this->weak_from_this(), on_fire] {
      if (auto self = weak.lock()) ((*self).*on_fire)();
    });
  }

  // Each interval: a write under way since the last one, the client has
  // stopped reading (what it sends would not show it); then, heard from,
  // all is well; silent, a ping (armed before it is sent, so that its
  // answer always meets the next interval); silent since the ping, the
  // client is gone.
  void on_keep_alive() {
    if (state_ != State::open) return;
    if (writing_ && writes_started_ == write_at_last_tick_) return finish();
    write_at_last_tick_ = writing_ ? writes_started_ : 0;
    if (!heard_ && pinged_) return finish();
    pinged_ = !heard_;
    heard_ = false;
    arm_timer(kWsKeepAliveInterval, &WsSession::on_keep_alive);
    if (pinged_) {
      ping_due_ = true;
      pump();
    }
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
  // Writing: the control frames waiting (the latest pong, a ping, our
  // close) and those under way; the data frame the queue handed over (its
  // bytes stay alive until `data_done_` runs) and its head; a count of the
  // writes started, and which was under way at the last keep-alive tick.
  std::string pong_;
  bool ping_due_ = false;
  std::string close_frame_;
  std::string control_writing_;
  const StreamBytes* data_ = nullptr;
  WriteQueue::Done data_done_;
  std::array<uint8_t, ws::kMaxFrameHead> head_{};
  uint64_t writes_started_ = 0;
  uint64_t write_at_last_tick_ = 0;
  bool writing_ = false;  // the 101 or a frame
  bool data_in_flight_ = false;
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
