// Exchange: see exchange.h.
#include "http/exchange.h"

#include <charconv>

#include <boost/asio/dispatch.hpp>

namespace chaton::http {

namespace net = boost::asio;

namespace {

// Hands `res` (a Response or a PreparedResponse) to the connection's strand.
template <class AnyResponse>
void send_on(const std::shared_ptr<Connection>& connection, const Request& req, bool keep_alive,
             AnyResponse res) {
  net::dispatch(connection->executor(),
                [c = connection, res = std::move(res), keep = keep_alive, ver = req.version(),
                 head = req.method() == bhttp::verb::head]() mutable { c->send(std::move(res), keep, ver, head); });
}

}  // namespace

Exchange::Exchange(std::shared_ptr<Connection> connection, Request request, std::string client_address,
                   std::string peer_address)
    : connection_(std::move(connection)),
      request_(std::move(request)),
      client_address_(std::move(client_address)),
      peer_address_(std::move(peer_address)),
      keep_alive_(request_.keep_alive()) {}

void Exchange::release_request_fields() {
  request_.clear();  // the header fields; the method, target and version stay
  std::string().swap(request_.body());
}

void Exchange::log(unsigned status, size_t bytes) {
  if (!access_log_) return;
  char status_digits[12];
  char byte_digits[24];
  std::string_view s(status_digits, std::to_chars(status_digits, status_digits + sizeof status_digits, status).ptr);
  std::string_view b(byte_digits, std::to_chars(byte_digits, byte_digits + sizeof byte_digits, bytes).ptr);
  access_log_->write({client_address_, " \"", request_.method_string(), " ", request_.target(), "\" ", s, " ", b});
}

void Exchange::respond(Response res) {
  if (!claim()) return;
  log(res.result_int(), res.body().size());
  send_on(connection_, request_, keep_alive_, std::move(res));
}

void Exchange::respond(PreparedResponse res) {
  if (!claim()) return;
  log(res.head->status(), res.body_size());
  send_on(connection_, request_, keep_alive_, std::move(res));
}

void Exchange::abandon() {
  if (!claim()) return;
  net::dispatch(connection_->executor(), [c = connection_] { c->close(); });
}

void Exchange::watch_disconnect(Callback on_gone) {
  net::dispatch(connection_->executor(),
                [c = connection_, f = std::move(on_gone)]() mutable { c->watch_disconnect(std::move(f)); });
}

ResponseStream Exchange::start_stream(Response header) {
  if (!claim()) return {};
  log(header.result_int(), 0);
  net::dispatch(connection_->executor(),
                [c = connection_, h = std::move(header), ver = request_.version()]() mutable {
                  c->start_stream(std::move(h), ver);
                });
  return ResponseStream(connection_);
}

bool ResponseStream::push(StreamBytes bytes, Callback written, bool catch_up) const {
  if (!connection_) return false;
  return connection_->push(StreamChunk{std::move(bytes), std::move(written), catch_up, {}});
}

void ResponseStream::cut() const {
  if (!connection_) return;
  net::dispatch(connection_->executor(), [c = connection_] { c->close(); });
}

}  // namespace chaton::http
