// Session: see session.h.
#include "http/session.h"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>

#include "http/responses.h"

namespace chaton::http {

namespace net = boost::asio;
using tcp = net::ip::tcp;

std::string client_address_of(const tcp::socket& socket) {
  beast::error_code ec;
  auto ep = socket.remote_endpoint(ec);
  if (ec) return "unknown";
  auto addr = ep.address();
  if (addr.is_v6() && addr.to_v6().is_v4_mapped())
    return net::ip::make_address_v4(net::ip::v4_mapped, addr.to_v6()).to_string();
  return addr.to_string();
}

// --- Exchange

Exchange::Exchange(std::shared_ptr<Session> session, Request request, std::string client_address)
    : session_(std::move(session)),
      request_(std::move(request)),
      client_address_(std::move(client_address)) {}

net::any_io_executor Exchange::executor() const { return session_->executor(); }

void Exchange::respond(Response res) {
  if (!claim()) return;
  if (access_log_) {
    std::string line = client_address_;
    line += " \"";
    line += request_.method_string();
    line += ' ';
    line += request_.target();
    line += "\" ";
    line += std::to_string(res.result_int());
    line += ' ';
    line += std::to_string(res.body().size());
    access_log_->write(line);
  }
  net::dispatch(session_->executor(), [s = session_, res = std::move(res),
                                        keep = request_.keep_alive(),
                                        ver = request_.version()]() mutable {
    s->send(std::move(res), keep, ver);
  });
}

void Exchange::abandon() {
  if (!claim()) return;
  net::dispatch(session_->executor(), [s = session_] { s->close(); });
}

void Exchange::watch_disconnect(std::function<void()> on_gone) {
  net::dispatch(session_->executor(),
                [s = session_, f = std::move(on_gone)]() mutable { s->watch_disconnect(std::move(f)); });
}

// --- Session

Session::Session(tcp::socket&& socket, Handler& handler, const SessionLimits& limits)
    : stream_(std::move(socket)), handler_(handler), limits_(limits) {
  client_address_ = client_address_of(stream_.socket());
}

void Session::run() {
  net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->do_read(); });
}

void Session::do_read() {
  parser_.emplace();
  parser_->body_limit(limits_.max_body_bytes);
  parser_->header_limit(limits_.max_header_bytes);
  stream_.expires_after(limits_.idle_timeout);
  bhttp::async_read(stream_, buffer_, *parser_,
                    beast::bind_front_handler(&Session::on_read, shared_from_this()));
}

void Session::on_read(beast::error_code ec, std::size_t) {
  if (ec == bhttp::error::end_of_stream || ec == net::error::eof ||
      ec == beast::error::timeout || ec == net::error::operation_aborted ||
      ec == net::error::connection_reset)
    return shutdown();
  if (ec == bhttp::error::body_limit)
    return reject(bhttp::status::payload_too_large, "request body too large");
  if (ec == bhttp::error::header_limit)
    return reject(bhttp::status::request_header_fields_too_large, "request headers too large");
  if (ec) return reject(bhttp::status::bad_request, "malformed HTTP request");

  stream_.expires_never();
  pending_ = true;
  auto ex = std::make_shared<Exchange>(shared_from_this(), parser_->release(), client_address_);
  handler_.handle(ex);
}

void Session::reject(bhttp::status status, const char* message) {
  Response res = error_response(status, message);
  pending_ = true;
  send(std::move(res), false, 11);
}

void Session::send(Response res, bool keep_alive, unsigned version) {
  if (closed_) return;
  pending_ = false;
  on_gone_ = nullptr;
  res.version(version);
  res.keep_alive(keep_alive);
  res.prepare_payload();
  writing_ = std::make_shared<Response>(std::move(res));
  stream_.expires_after(limits_.idle_timeout);
  bhttp::async_write(stream_, *writing_,
                     beast::bind_front_handler(&Session::on_write, shared_from_this(),
                                               writing_->keep_alive()));
}

void Session::on_write(bool keep_alive, beast::error_code ec, std::size_t) {
  writing_.reset();
  if (ec || !keep_alive) return shutdown();
  do_read();
}

void Session::close() {
  pending_ = false;
  on_gone_ = nullptr;
  shutdown();
}

void Session::watch_disconnect(std::function<void()> on_gone) {
  if (!pending_ || closed_) return;
  on_gone_ = std::move(on_gone);
  stream_.socket().async_wait(tcp::socket::wait_read,
                              beast::bind_front_handler(&Session::on_readable, shared_from_this()));
}

void Session::on_readable(beast::error_code ec) {
  if (!pending_ || !on_gone_) return;  // answered meanwhile
  if (!ec) {
    // Readable: either the peer closed, or it pipelined the next request.
    beast::error_code rec;
    std::size_t avail = stream_.socket().available(rec);
    if (!rec && avail > 0) {
      auto buf = buffer_.prepare(avail);
      std::size_t n = stream_.socket().read_some(buf, rec);
      buffer_.commit(n);
      if (!rec) return;  // kept for after the response; stop watching
    }
  }
  auto gone = std::move(on_gone_);
  on_gone_ = nullptr;
  pending_ = false;
  shutdown();
  gone();
}

void Session::shutdown() {
  if (closed_) return;
  closed_ = true;
  beast::error_code ec;
  stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
  stream_.socket().close(ec);
}

}  // namespace chaton::http
