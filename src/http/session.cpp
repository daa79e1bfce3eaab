// Sessions: see session.h. One class template serves plain and TLS
// streams; the differences (handshake, shutdown) are `if constexpr`.
#include "http/session.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cassert>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/bind_allocator.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/http/rfc7230.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include "access/forwarded.h"
#include "http/handler_memory.h"
#include "http/prepared_response.h"
#include "http/responses.h"
#include "http/write_now.h"
#include "http/ws_session.h"
#include "util/burst.h"
#include "util/log.h"

namespace chaton::http {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;
using TlsStream = beast::ssl_stream<tcp::socket>;

std::string client_address_of(const tcp::socket& socket) {
  beast::error_code ec;
  auto ep = socket.remote_endpoint(ec);
  if (ec) return "unknown";
  auto addr = ep.address();
  if (addr.is_v6() && addr.to_v6().is_v4_mapped())
    return net::ip::make_address_v4(net::ip::v4_mapped, addr.to_v6()).to_string();
  return addr.to_string();
}

namespace {

template <class Stream>
constexpr bool kIsTls = std::is_same_v<Stream, TlsStream>;

// How long a connection closed after its last response keeps reading
// (and dropping) what the client still sends; see linger_then_close().
constexpr std::chrono::milliseconds kLingerTimeout{2000};

// The most one receive asks for; it asks for at least 512 bytes, or the
// buffer's free room if larger (beast::read_size). The receive that watches
// a waiting request reads into a buffer of kWatchBufferBytes (see
// arm_readable_wait()).
constexpr size_t kReadChunkBytes = 65536;
constexpr size_t kWatchBufferBytes = 512;

// A request's parser, made for each request and let go of once it is read
// (a request that waits holds none): from the loop's block cache
// (util/block_cache.h), as is what it parses into (RequestFields).
struct RequestParser final : bhttp::request_parser<bhttp::string_body, CachedAllocator<char>>, CachedNew {};

// The receive's operation state comes from the block cache too: a fan-out
// stops thousands of receives in a row, then starts them again.
template <class Handler>
auto with_cached_memory(Handler handler) {
  return net::bind_allocator(CachedAllocator<void>(), std::move(handler));
}

// An operation that ends so ends with the connection: the peer closed or
// reset it, or the session's deadline closed the socket (under way:
// operation_aborted; started after: bad_descriptor).
bool is_disconnect(const beast::error_code& ec) {
  return ec == bhttp::error::end_of_stream || ec == net::error::eof || ec == net::error::bad_descriptor ||
         ec == net::error::operation_aborted || ec == net::error::connection_reset ||
         ec == net::ssl::error::stream_truncated;
}

// A request whose header already says it cannot be served safely.
struct HeaderRefusal {
  bhttp::status status;
  std::string message;
};

// Checked on the header alone, before any of the body is read, so that a
// body the server would misjudge can never pass for a second request
// (docs/SECURITY.md, "Oversized and malformed requests"). RFC 9112: a
// request has one Host header, and HTTP/1.1 needs it (section 3.2); a
// Transfer-Encoding must end in chunked, or the body's length is unknown
// (400, section 6.3); chunked is the only transfer coding this server
// reads (501 for another, section 6.1); HTTP/1.0 has no transfer codings
// (section 6.1), so one there means faulty framing.
std::optional<HeaderRefusal> header_problem(const bhttp::request_header<RequestFields>& h) {
  const size_t hosts = h.count(bhttp::field::host);
  if (hosts > 1) return HeaderRefusal{bhttp::status::bad_request, "more than one Host header"};
  if (hosts == 0 && h.version() >= 11)
    return HeaderRefusal{bhttp::status::bad_request, "an HTTP/1.1 request needs a Host header"};
  if (h.count(bhttp::field::transfer_encoding) == 0) return std::nullopt;
  if (h.version() < 11)
    return HeaderRefusal{bhttp::status::bad_request, "Transfer-Encoding in an HTTP/1.0 request"};
  std::string joined;  // several fields are one list
  auto [first, last] = h.equal_range(bhttp::field::transfer_encoding);
  for (auto f = first; f != last; ++f) {
    if (!joined.empty()) joined += ',';
    joined.append(f->value().data(), f->value().size());
  }
  bhttp::opt_token_list list(joined);
  std::vector<beast::string_view> codings;
  if (bhttp::validate_list(list)) codings.assign(list.begin(), list.end());
  if (codings.empty() || !beast::iequals(codings.back(), "chunked"))
    return HeaderRefusal{bhttp::status::bad_request, "Transfer-Encoding must end in chunked"};
  codings.pop_back();
  for (auto c : codings) {
    if (beast::iequals(c, "chunked"))
      return HeaderRefusal{bhttp::status::bad_request, "chunked given twice in Transfer-Encoding"};
    return HeaderRefusal{bhttp::status::not_implemented,
                         "transfer coding '" + std::string(c) + "' is not supported; only chunked is"};
  }
  return std::nullopt;
}

constexpr std::string_view kTooManyFromAddress = "too many connections from your address";

// X-Forwarded-For from a peer that is not a trusted proxy is ignored (the
// peer is the client; access/forwarded.h). A proxy in front of a server
// that does not trust it makes every client one address: said once per
// peer, naming it and the setting, for the first kUntrustedForwardingPeers
// peers (a stray client sending the header must not silence it for the
// proxy).
constexpr size_t kUntrustedForwardingPeers = 8;

void warn_untrusted_forwarding(const std::string& peer) {
  static std::mutex mu;
  static std::vector<std::string> told;
  {
    std::lock_guard lock(mu);
    if (told.size() >= kUntrustedForwardingPeers || std::find(told.begin(), told.end(), peer) != told.end())
      return;
    told.push_back(peer);
  }
  log_warning("a request from " + peer +
              " carries X-Forwarded-For, which is ignored: its sender is not in [site] trusted_proxies, so " +
              peer +
              " is taken as the client's address (for rate limits, caps, the blacklist and stored "
              "posts). If it is a reverse proxy, add it to trusted_proxies (docs/DEPLOY.md). Said once for "
              "this peer.");
}

// Sent instead of a response that the client's address has no room left
// for under limits.max_buffered_bytes_per_address (docs/SECURITY.md, "Slow,
// idle and long-lived connections"); the connection is then closed.
Response over_budget_response(unsigned version) {
  Response res = error_response(bhttp::status::too_many_requests,
                                "too much unread data is waiting for your address; read it first");
  res.version(version);
  res.keep_alive(false);
  res.set(bhttp::field::retry_after, "5");
  return res;
}

template <class Stream>
class Session final : public Connection,
                      public Drain::Member,
                      public std::enable_shared_from_this<Session<Stream>> {
 public:
  Session(Stream&& stream, Handler& handler, const SessionLimits& limits, std::string address,
          std::shared_ptr<ConnectionLimiter::Ticket> ticket)
      : stream_(std::move(stream)),
        handler_(handler),
        limits_(limits),
        address_(std::move(address)),
        ticket_(std::move(ticket)) {}

  // Answer this instead of reading requests (the connection is over a cap).
  void refuse_with(Response res) { refusal_ = std::make_unique<Response>(std::move(res)); }

  // Keeps the TLS context this session was made with alive (a reload on
  // SIGHUP replaces the server's context; running sessions keep theirs).
  void keep(std::shared_ptr<ssl::context> tls) { tls_ = std::move(tls); }

  // The limits may be gone by now (a session cut when the server stopped
  // goes with its loop), the Drain may not.
  ~Session() override {
    if (drain_) drain_->leave(drain_slot_);
    delete stream_state_.load();
  }

  void run() {
    if (limits_.drain) {
      drain_slot_ = limits_.drain->join(this->weak_from_this());
      drain_ = limits_.drain;
    }
    net::dispatch(stream_.get_executor(), [self = this->shared_from_this()] { self->begin(); });
  }

  // The server drains: close now if waiting for a next request with none of
  // it read; otherwise send() and do_read() close after the response.
  void wind_down() override {
    net::post(stream_.get_executor(), [self = this->shared_from_this()] {
      if (self->closed_ || self->pending_ || self->streaming_) return;
      // Some of a next request is in: do_read() or its response closes.
      if ((self->parser_ && self->parser_->got_some()) || self->buffer_.size() > 0) return;
      self->shutdown();
    });
  }

  net::any_io_executor executor() override { return stream_.get_executor(); }

  void send(Response res, bool keep_alive, unsigned version, bool head_only) override {
    if (closed_) return;
    pending_ = false;
    on_gone_ = nullptr;
    ++generation_;  // a readiness wait armed for this request is stale from now on
    res.version(version);
    res.keep_alive(keep_alive && !draining());
    res.prepare_payload();
    if (head_only &&
        res.result() != bhttp::status::not_modified) {  // same headers, Content-Length included, and no body
      auto length = res.body().size();
      res.body().clear();
      res.content_length(length);
    }
    if (auto charge = charge_bytes(ticket_, res.body().size())) {
      writing_charge_ = std::move(*charge);
    } else {  // this address holds too much unsent already: refuse, and close
      res = over_budget_response(version);
      res.prepare_payload();
    }
    writing_ = std::make_shared<Response>(std::move(res));
    arm_deadline(limits_.idle_timeout);
    bhttp::async_write(
        stream_, *writing_,
        with_memory(write_memory(), beast::bind_front_handler(&Session::on_write, this->shared_from_this(),
                                                              writing_->keep_alive())));
  }

  void send(PreparedResponse res, bool keep_alive, unsigned version, bool head_only) override {
    if (closed_) return;
    if (auto charge = charge_bytes(ticket_, head_only ? 0 : res.body_size())) {
      writing_charge_ = std::move(*charge);
    } else {  // as for a Response: refuse, and close
      return send(over_budget_response(version), false, version, false);
    }
    pending_ = false;
    on_gone_ = nullptr;
    ++generation_;
    keep_alive = keep_alive && !draining();
    prepared_ = std::make_unique<PreparedWrite>(std::move(res), version, keep_alive, head_only);
    beast::buffers_suffix<PreparedWrite::Buffers> rest(prepared_->buffers());
    // A reply (a long poll's, most often) nearly always fits in the
    // socket's send buffer: written here, it completes here, with no
    // operation, deadline or completion handler, and its memory goes at
    // once instead of after every other reply of a fan-out slice
    // (http/write_now.h). What the socket does not take now is written as
    // usual.
    beast::error_code ec;
    if (write_now(stream_, rest, ec) != WrittenNow::part)
      return on_write(keep_alive, ec, 0);  // over, or failed
    arm_deadline(limits_.idle_timeout);
    net::async_write(
        stream_, rest,
        with_memory(write_memory(),
                    beast::bind_front_handler(&Session::on_write, this->shared_from_this(), keep_alive)));
  }

  void close() override {
    pending_ = false;
    on_gone_ = nullptr;
    shutdown();
  }

  void watch_disconnect(Callback on_gone) override {
    if (!pending_ || closed_) return;
    on_gone_ = std::move(on_gone);
    if (streaming_) return;
    // The request waits (a long-poll: most of a reader's life): hold no
    // memory it does not need meanwhile. Nothing is being written.
    if (write_memory_ && !write_memory_->in_use()) write_memory_.reset();
    // Watched once it has waited kDisconnectWatchDelay (see session.h), on
    // the session's deadline, which a waiting request does not use: a
    // reply before then re-arms or leaves it (do_read(), send()).
    deadline().arm(kDisconnectWatchDelay, [weak = this->weak_from_this(), generation = generation_] {
      if (auto self = weak.lock()) self->start_watch(generation);
    });
  }

  void start_stream(Response header, unsigned version) override {
    if (closed_) return;
    stream_header_ = std::make_shared<bhttp::response<bhttp::empty_body>>(header.result(), version);
    for (const auto& field : header) stream_header_->set(field.name_string(), field.value());
    stream_header_->keep_alive(false);
    serializer_ = std::make_shared<bhttp::response_serializer<bhttp::empty_body>>(*stream_header_);
    streaming_ = true;
    // Published for push(), which may come from any thread.
    stream_state_.store(new StreamState(*this), std::memory_order_release);
    stream_state_.load()->queue.open();
    arm_deadline(limits_.idle_timeout);
    bhttp::async_write_header(stream_, *serializer_,
                              [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                                if (ec) return self->end_stream();
                                // Written: a stream reader holds neither the header nor the
                                // request's read buffer while it waits (it reads no more).
                                self->serializer_.reset();
                                self->stream_header_.reset();
                                // (Unless the receive that watched the request
                                // is out into it: it watches the stream too.)
                                if (!self->reading_) {
                                  self->buffer_.consume(self->buffer_.size());
                                  self->buffer_.shrink_to_fit();
                                }
                                // The pieces' writes are watched by the stall timer instead.
                                self->disarm_deadline();
                                self->arm_readable_wait();
                                self->stream()->queue.start();
                              });
  }

  bool push(StreamChunk chunk) override {
    StreamState* st = stream_state_.load(std::memory_order_acquire);
    if (!st) return false;  // no stream started on this connection
    auto pushed = st->queue.push(std::move(chunk), this->shared_from_this());
    if (pushed == WriteQueue::Pushed::over)  // the reader cannot keep up: drop it
      net::post(stream_.get_executor(), [self = this->shared_from_this()] { self->end_stream(); });
    return pushed == WriteQueue::Pushed::queued;
  }

 private:
  // What only a stream (a response whose body is pushed) needs: made when
  // the stream starts, so that a connection serving requests, or a
  // long-poll waiting, does not carry it.
  struct StreamState {
    explicit StreamState(Session& s)
        : queue(
              s.stream_.get_executor(), kMaxStreamQueueBytes, s.ticket_,
              [&s](const StreamBytes& bytes, WriteQueue::Done done) { s.write(bytes, std::move(done)); },
              [&s] { s.end_stream(); }) {}
    WriteQueue queue;  // the stream's body, after its header
    // The stall check of the stream's writes (watch_stall): made at the
    // first write, let go of once no write is in flight.
    std::unique_ptr<Timer> stall_timer;
    MonoTime piece_started;  // of the piece in flight
    bool piece_in_flight = false;
    bool stall_armed = false;
  };
  // On the strand, once the stream started (else null).
  StreamState* stream() { return stream_state_.load(std::memory_order_relaxed); }
  bool piece_in_flight() {
    auto* st = stream();
    return st && st->piece_in_flight;
  }

  tcp::socket& lowest() { return beast::get_lowest_layer(stream_); }

  // One deadline for what the session is doing now: reading a request,
  // writing a response or a stream's header, a TLS handshake or shutdown,
  // a lingering close. When it passes, the socket is closed, and the
  // operation under way ends with an error that is_disconnect() takes for
  // the client gone. A request that waits for its answer (a long poll) and
  // a stream's pieces (see watch_stall) run without one: the timer of a
  // waiting request starts its disconnect watch instead (watch_disconnect()).
  // Its timer is the TimeSource's, on an event loop a node of the loop's one
  // timer list (util/deadline_list.h): arming it allocates nothing and
  // leaves no operation pending, and a waiting reader holds the node alone.
  void arm_deadline(MonoDuration timeout) {
    deadline().arm(timeout, [weak = this->weak_from_this()] {
      if (auto self = weak.lock()) self->on_deadline();
    });
  }
  // The deadline's timer, made at its first use.
  Timer& deadline() {
    if (!deadline_) deadline_ = time().make_timer(executor());
    return *deadline_;
  }
  void disarm_deadline() {
    if (deadline_) deadline_->cancel();
  }
  void on_deadline() {
    beast::error_code ec;
    lowest().close(ec);
  }
  bool draining() const { return limits_.drain && limits_.drain->draining(); }

  TimeSource& time() { return limits_.time ? *limits_.time : RealTimeSource::instance(); }

  HandlerMemory& write_memory() {
    if (!write_memory_) write_memory_ = std::make_unique<HandlerMemory>();
    return *write_memory_;
  }

  void begin() {
    if constexpr (kIsTls<Stream>) {
      // The handshake is part of sending a request: request_timeout bounds it too.
      arm_deadline(std::min<std::chrono::milliseconds>(limits_.handshake_timeout, limits_.idle_timeout));
      stream_.async_handshake(ssl::stream_base::server,
                              [self = this->shared_from_this()](beast::error_code ec) {
                                if (ec) return self->shutdown();
                                self->first_read();
                              });
    } else {
      first_read();
    }
  }

  void first_read() {
    if (!refusal_) return do_read();
    pending_ = true;
    Response refusal = std::move(*refusal_);
    refusal_.reset();
    send(std::move(refusal), false, 11, false);
  }

  std::string request_address(const Request& req) const {
    if (!limits_.trusted_proxies) return address_;
    std::string_view forwarded = req["X-Forwarded-For"];
    if (!forwarded.empty() && !limits_.trusted_proxies->contains(address_))
      warn_untrusted_forwarding(address_);
    return client_address(address_, forwarded, *limits_.trusted_proxies);
  }

  // Behind a trusted proxy, the connection counts under the per-address
  // caps against `client`, the address its request names, while it serves
  // that request (ConnectionLimiter::admit_carried). False when `client`
  // has no place left: the request is then refused.
  bool carry(const std::string& client) {
    if (!ticket_ || client == address_ || ticket_->address() == client) return true;
    const auto& own = ticket_->carrier() ? ticket_->carrier() : ticket_;
    auto admission = limits_.connections->admit_carried(client, own);
    if (admission.verdict != ConnectionLimiter::Verdict::ok) return false;
    ticket_ = std::move(admission.ticket);
    if (auto* st = stream()) st->queue.charge_to(ticket_);
    return true;
  }

  // The request is answered: a kept-alive connection of a proxy no longer
  // counts against the client it carried.
  void uncarry() {
    if (!ticket_ || !ticket_->carrier()) return;
    ticket_ = ticket_->carrier();
    if (auto* st = stream()) st->queue.charge_to(ticket_);
  }

  // Reads the next request: what of it is in the buffer already (read by
  // the receive that watched the last one, or sent with it), then what the
  // session's receive brings, each part given to Beast's parser as it comes
  // (parse()). One deadline bounds the whole request.
  void do_read() {
    if (closed_) return;                         // closed while this read was set aside (util/burst.h)
    if (draining()) return linger_then_close();  // the server takes no more requests
    parser_ = std::make_unique<RequestParser>();
    parser_->body_limit(limits_.max_body_bytes);
    parser_->header_limit(limits_.max_header_bytes);
    arm_deadline(limits_.idle_timeout);
    // Parsed from the loop: requests sent back to back, each answered at
    // once, do not nest one call deeper each.
    if (buffer_.size() > 0)
      return net::post(stream_.get_executor(), [self = this->shared_from_this()] { self->parse(); });
    receive();  // unless the one that watched the last request is still out
  }

  // Gives the buffer's bytes to the parser. A header that frames its body
  // doubtfully is refused as soon as it is whole, before any of the body is
  // parsed (the parser stops at the header's end); a whole request is
  // handed out; a part of one waits for more bytes.
  void parse() {
    if (closed_ || !parser_) return;
    assert(!reading_);  // no receive is out into the bytes parsed here
    while (buffer_.size() > 0) {
      beast::error_code ec;
      const bool had_header = parser_->is_header_done();
      const std::size_t used = parser_->put(buffer_.data(), ec);
      buffer_.consume(used);
      if (ec == bhttp::error::need_more) break;
      if (ec) return on_read(ec, 0);
      if (!had_header && parser_->is_header_done()) {
        if (auto problem = header_problem(parser_->get())) return reject(problem->status, problem->message);
      }
      if (parser_->is_done()) return on_read(ec, 0);
      if (used == 0) break;
    }
    receive();
  }

  // The session's one receive into its buffer: at most one is out at a
  // time. It brings a request's bytes (parse()); while a request waits for
  // its answer it is the disconnect watch (arm_readable_wait()), and the
  // bytes it brings then are the next request, kept in the buffer until
  // the answer is written; while the connection closes it reads what the
  // client still sends, to drop it (linger_then_close()). So the watch
  // that waited is the read that takes the next request, unless the reply
  // was written inside a fan-out, which stops it (on_write()): the next
  // request is then read after the fan-out.
  void receive() {
    if (reading_ || (closed_ && !lingering_)) return;
    reading_ = true;
    stream_.async_read_some(
        buffer_.prepare(beast::read_size(buffer_, kReadChunkBytes)),
        with_cached_memory(beast::bind_front_handler(&Session::on_received, this->shared_from_this())));
  }

  void on_received(beast::error_code ec, std::size_t n) {
    reading_ = false;
    buffer_.commit(n);
    if (closed_) {
      if (!lingering_) return;
      if (ec) return close_socket();  // the client closed, or the linger timed out
      buffer_.consume(buffer_.size());
      return receive();
    }
    // Cancelled on an open socket: stopped by on_write() in a burst (a
    // deadline or a close closes the socket).
    if (ec == net::error::operation_aborted && lowest().is_open()) {
      if (parser_ && !pending_) receive();  // do_read() ran first, and found this one out
      return;
    }
    if (pending_) return on_watched(ec);
    // Between two requests (a reply still being written, or the next read
    // set aside in a burst, util/burst.h): the bytes wait for do_read(), and
    // so does an end or error, which the socket gives again to its receive.
    if (!parser_) return;
    if (ec == net::error::eof) {  // as Beast's read: the end of a part of a request makes it partial
      ec = bhttp::error::end_of_stream;
      if (parser_->got_some()) {
        parser_->put_eof(ec);
        if (!ec && !parser_->is_done()) ec = bhttp::error::partial_message;
      }
    }
    if (ec || parser_->is_done()) return on_read(ec, 0);
    parse();
  }

  // The receive that watches a request left waiting has ended: the peer
  // closed (end of file, or an error), or it sent bytes, which is not a
  // close: they stay in the buffer for the next request, and the watch
  // stops (at most one read buffer of a next request is taken early).
  void on_watched(const beast::error_code& ec) {
    if (!ec || ec == net::error::operation_aborted || !on_gone_) return;
    gone();
  }

  void on_read(beast::error_code ec, std::size_t) {
    if (is_disconnect(ec)) return shutdown();
    if (ec == bhttp::error::body_limit)
      return reject(bhttp::status::payload_too_large, "request body too large");
    if (ec == bhttp::error::header_limit)
      return reject(bhttp::status::request_header_fields_too_large, "request headers too large");
    if (ec) return reject(bhttp::status::bad_request, "malformed HTTP request");
    assert(!reading_);

    disarm_deadline();
    pending_ = true;
    if (beast::websocket::is_upgrade(parser_->get())) return upgrade();
    std::string address = request_address(parser_->get());
    if (!carry(address)) return reject(bhttp::status::too_many_requests, kTooManyFromAddress);
    Request req = parser_->release();
    parser_.reset();  // a request that waits holds no parser
    auto ex =
        make_cached_shared<Exchange>(this->shared_from_this(), std::move(req), std::move(address), address_);
    handler_.handle(ex);
  }

  void upgrade() {
    Request req = parser_->release();
    parser_.reset();
    std::string address = request_address(req);
    if (!carry(address)) return reject(bhttp::status::too_many_requests, kTooManyFromAddress);
    UpgradeDecision d = handler_.upgrade(req, address);
    if (!d.peer) {
      Response res =
          d.refusal ? std::move(*d.refusal) : error_response(bhttp::status::not_found, "no WebSocket here");
      return send(std::move(res), false, req.version(), false);
    }
    closed_ = true;  // the stream now belongs to the WebSocket session
    start_websocket(std::move(stream_), std::move(buffer_), std::move(req), std::move(d.peer), limits_,
                    std::move(ticket_));
  }

  void reject(bhttp::status status, std::string_view message) {
    pending_ = true;
    send(error_response(status, message), false, 11, false);
  }

  void on_write(bool keep_alive, beast::error_code ec, std::size_t) {
    writing_.reset();
    prepared_.reset();
    writing_charge_.release();
    if (ec) return shutdown();
    if (!keep_alive) return linger_then_close();
    uncarry();
    // A reply written while the fan-out wakes this loop's readers: the
    // next request is read once they all have theirs (util/burst.h).
    if (in_burst()) {
      // The receive that watched the request would read the next one
      // between the fan-out's slices, ahead of later readers' replies:
      // it is stopped, and the read set aside starts another.
      if (reading_) {
        beast::error_code ignored;
        lowest().cancel(ignored);
      }
      return defer(
          BurstTask{this->shared_from_this(), [](void* self) { static_cast<Session*>(self)->do_read(); }});
    }
    do_read();
  }

  // The last response is written, but the client may still be sending (a
  // refused request's headers or body, or a request on a connection over a
  // cap). Closing now would answer those bytes with a reset, which can
  // destroy the response before the client reads it. So close in stages
  // (RFC 9112, section 9.6): stop sending, read and drop what still comes
  // until the client closes or kLingerTimeout passes, then close.
  void linger_then_close() {
    if constexpr (kIsTls<Stream>) {
      shutdown();
    } else {
      if (closed_) return;
      closed_ = true;
      if (auto* st = stream()) st->queue.stop();
      beast::error_code ec;
      lowest().shutdown(tcp::socket::shutdown_send, ec);
      if (ec) return close_socket();
      arm_deadline(std::min(limits_.idle_timeout, kLingerTimeout));
      lingering_ = true;
      buffer_.consume(buffer_.size());
      receive();  // unless one is out already
    }
  }

  void close_socket() {
    beast::error_code ec;
    lowest().close(ec);
  }

  // Watches for the peer going away while a response is pending. On a
  // plain connection waiting for its answer (a long poll) with no bytes of
  // a next request in its buffer, the watch is the session's receive (see
  // receive()): it waits in the reactor like any read, and reads the next
  // request when it comes. Otherwise it is a receive that peeks at the
  // socket (the bytes stay there), into one byte: on a stream, which reads
  // no further request and holds no read buffer; on TLS, whose records only
  // the stream's own reads may take; and behind bytes not yet parsed (sent
  // with the request), which a receive must not read after. A readiness
  // wait (async_wait) would re-register the socket with epoll each time it
  // is armed.
  void arm_readable_wait() {
    if (reading_) return;  // the receive that is out watches already
    if constexpr (!kIsTls<Stream>) {
      if (!streaming_ && buffer_.size() == 0) {
        if (buffer_.capacity() > kWatchBufferBytes) buffer_.shrink_to_fit();
        return receive();
      }
    }
    if (buffer_.size() == 0) buffer_.shrink_to_fit();
    lowest().async_receive(net::buffer(&peeked_, 1), tcp::socket::message_peek,
                           with_cached_memory(beast::bind_front_handler(
                               &Session::on_readable, this->shared_from_this(), generation_)));
  }

  // The watch delay of the request of `generation` has passed: watched from
  // now on, if it still waits.
  void start_watch(uint64_t generation) {
    if (generation != generation_ || !pending_ || !on_gone_ || closed_ || streaming_) return;
    arm_readable_wait();
  }

  // The peeking watch: readable while a response is pending: the peer
  // closed (end of file, or an error), or it sent more bytes, which is not
  // a close: stop watching. A completion for an earlier request is ignored.
  void on_readable(uint64_t generation, beast::error_code ec, std::size_t n) {
    if (generation != generation_ || !pending_ || !on_gone_ || closed_) return;
    if (ec == net::error::operation_aborted) return;
    if (!ec && n > 0) return;
    gone();
  }

  // The stream queue's writer: one piece of the body, its parts gathered
  // into one write, tried at once (http/write_now.h): a piece the socket
  // takes whole is done here. A piece that waits for the socket must be
  // written within idle_timeout of its start, as a response must; the
  // stall timer checks it (see watch_stall).
  void write(const StreamBytes& bytes, WriteQueue::Done done) {
    beast::buffers_suffix<std::array<net::const_buffer, 3>> rest(bytes.buffers());
    beast::error_code ec;
    if (auto now = write_now(stream_, rest, ec); now != WrittenNow::part)
      return done(now == WrittenNow::whole);
    StreamState& st = *stream();
    st.piece_started = time().monotonic_now();
    st.piece_in_flight = true;
    if (!st.stall_armed) watch_stall(st.piece_started + limits_.idle_timeout);
    net::async_write(stream_, rest,
                     with_memory(write_memory(), [self = this->shared_from_this(), done = std::move(done)](
                                                     beast::error_code ec, std::size_t) {
                       self->stream()->piece_in_flight = false;
                       done(!ec);
                       // No next piece started: a stream that waits holds no write block.
                       if (self->write_memory_ && !self->write_memory_->in_use()) self->write_memory_.reset();
                     }));
  }

  // A stream reader that stops reading leaves a piece's write pending
  // forever. Instead of a deadline armed and cancelled with every piece
  // (a timer operation per event), one timer runs while pieces are being
  // written: when it fires it cuts the stream if the piece in flight
  // started idle_timeout ago or more, waits again until the current
  // piece's deadline if a later piece is in flight, and stops when none
  // is (the next write arms it again). So it is armed at most once per
  // idle_timeout while the stream is busy, and once its check finds no
  // piece in flight the stream does not even hold the timer. The timer is
  // the TimeSource's: on an event loop, a node of the loop's one timer list
  // (util/deadline_list.h), so a stream that waited since its last piece
  // holds that node, not a timer of its own with a pending wait.
  void watch_stall(MonoTime deadline) {
    StreamState& st = *stream();
    st.stall_armed = true;
    if (!st.stall_timer) st.stall_timer = time().make_timer(executor());
    st.stall_timer->arm(deadline - time().monotonic_now(),
                        [self = this->shared_from_this()] { self->on_stall_check(); });
  }

  void on_stall_check() {
    StreamState& st = *stream();
    st.stall_armed = false;
    if (closed_) return;
    if (!st.piece_in_flight) {
      st.stall_timer.reset();  // nothing in flight: the next write makes it again
      return;
    }
    auto deadline = st.piece_started + limits_.idle_timeout;
    if (time().monotonic_now() < deadline) return watch_stall(deadline);
    end_stream();  // the reader stopped reading: cut it, as one that fell behind
  }

  void end_stream() {
    if (auto* st = stream()) st->queue.close();
    gone();
  }

  void gone() {
    auto f = std::move(on_gone_);
    on_gone_ = nullptr;
    pending_ = false;
    shutdown();
    if (f) f();
  }

  void shutdown() {
    if (closed_) return;
    closed_ = true;
    // What a reader wanted run after its bytes were written never will be:
    // let go of it (it holds the reader, which holds this session). The
    // bytes still queued or being written are no longer charged to the
    // address: the connection is closing.
    if (auto* st = stream()) {
      st->queue.stop();
      if (st->stall_timer) st->stall_timer->cancel();
    }
    writing_charge_.release();
    if constexpr (kIsTls<Stream>) {
      // A stream piece still being written (a reader that stopped reading)
      // would hold TLS's close_notify behind it for good, and the timeout
      // below does not apply to a write already under way: close at once.
      if (piece_in_flight()) {
        beast::error_code ec;
        lowest().close(ec);
        return;
      }
      arm_deadline(std::chrono::seconds(2));
      stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) {
        beast::error_code ec;
        self->lowest().close(ec);
      });
    } else {
      beast::error_code ec;
      lowest().shutdown(tcp::socket::shutdown_both, ec);
      lowest().close(ec);
    }
  }

  std::shared_ptr<ssl::context> tls_;
  std::unique_ptr<Response> refusal_;  // made only for a connection over a cap
  // The memory of the write under way (a response, or a piece of a stream:
  // one at a time); declared before the stream. Made at the first write,
  // and let go while a request waits (see watch_disconnect()).
  std::unique_ptr<HandlerMemory> write_memory_;
  Stream stream_;
  std::unique_ptr<Timer> deadline_;  // see arm_deadline(); made by deadline() at its first use
  Handler& handler_;
  const SessionLimits& limits_;
  std::string address_;
  std::shared_ptr<ConnectionLimiter::Ticket> ticket_;  // this connection's place under the caps
  Drain* drain_ = nullptr;                             // limits_.drain, which this session joined
  Drain::Slot drain_slot_{};                           // its place there
  beast::flat_buffer buffer_;                          // what receive() brought and the parser has not taken
  // While a request is read (let go of once it is handed out).
  std::unique_ptr<RequestParser> parser_;
  bool reading_ = false;    // receive() is out
  bool lingering_ = false;  // closing: what still comes is dropped
  std::shared_ptr<Response> writing_;
  std::unique_ptr<PreparedWrite> prepared_;   // or this, while it is written
  ConnectionLimiter::Charge writing_charge_;  // writing_'s body, charged to the address
  Callback on_gone_;
  bool pending_ = false;     // a request was handed out and not answered yet
  char peeked_ = 0;          // where the peeking disconnect watch peeks
  uint64_t generation_ = 0;  // counts responses, to tell stale readiness waits
  bool closed_ = false;

  // Streaming responses.
  std::shared_ptr<bhttp::response<bhttp::empty_body>> stream_header_;
  std::shared_ptr<bhttp::response_serializer<bhttp::empty_body>> serializer_;
  bool streaming_ = false;
  // Owned (deleted with the session); published once made, for push().
  std::atomic<StreamState*> stream_state_{nullptr};
};

}  // namespace

namespace {

// The response for a connection over a cap, or nothing when it may stay.
std::optional<Response> admission_refusal(ConnectionLimiter::Verdict v) {
  switch (v) {
    case ConnectionLimiter::Verdict::ok:
      return std::nullopt;
    case ConnectionLimiter::Verdict::too_many: {
      Response res = error_response(bhttp::status::service_unavailable, "the server is full; try again soon");
      res.set(bhttp::field::retry_after, "5");
      return res;
    }
    case ConnectionLimiter::Verdict::too_many_from_address:
      return error_response(bhttp::status::too_many_requests, kTooManyFromAddress);
  }
  return std::nullopt;
}

template <class Stream>
void run_session(std::shared_ptr<Session<Stream>> s, std::optional<Response> refusal) {
  if (refusal) s->refuse_with(std::move(*refusal));
  s->run();
}

}  // namespace

void start_session(tcp::socket&& socket, Handler& handler, const SessionLimits& limits,
                   std::shared_ptr<ssl::context> tls) {
  std::string address = client_address_of(socket);
  ConnectionLimiter::Admission admission;
  if (limits.connections) admission = limits.connections->admit(address);
  std::optional<Response> refusal = admission_refusal(admission.verdict);
  if (tls) {
    auto s = std::make_shared<Session<TlsStream>>(TlsStream(std::move(socket), *tls), handler, limits,
                                                  std::move(address), std::move(admission.ticket));
    s->keep(std::move(tls));
    run_session(std::move(s), std::move(refusal));
  } else {
    auto s = std::make_shared<Session<tcp::socket>>(std::move(socket), handler, limits, std::move(address),
                                                    std::move(admission.ticket));
    run_session(std::move(s), std::move(refusal));
  }
}

}  // namespace chaton::http
