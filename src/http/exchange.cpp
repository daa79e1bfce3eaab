// Exchange: see exchange.h.
#include "http/exchange.h"

#include <boost/asio/dispatch.hpp>

namespace chaton::http {

namespace net = boost::asio;

Exchange::Exchange(std::shared_ptr<Connection> connection, Request request, std::string client_address)
    : connection_(std::move(connection)),
      request_(std::move(request)),
      client_address_(std::move(client_address)) {}

void Exchange::log(unsigned status, size_t bytes) {
  if (!access_log_) return;
  std::string line = client_address_;
  line += " \"";
  line += request_.method_string();
  line += ' ';
  line += request_.target();
  line += "\" ";
  line += std::to_string(status);
  line += ' ';
  line += std::to_string(bytes);
  access_log_->write(line);
}

void Exchange::respond(Response res) {
  if (!claim()) return;
  log(res.result_int(), res.body().size());
  net::dispatch(connection_->executor(),
                [c = connection_, res = std::move(res), keep = request_.keep_alive(),
                 ver = request_.version(), head = request_.method() == bhttp::verb::head]() mutable {
                  c->send(std::move(res), keep, ver, head);
                });
}

void Exchange::abandon() {
  if (!claim()) return;
  net::dispatch(connection_->executor(), [c = connection_] { c->close(); });
}

void Exchange::watch_disconnect(std::function<void()> on_gone) {
  net::dispatch(connection_->executor(),
                [c = connection_, f = std::move(on_gone)]() mutable { c->watch_disconnect(std::move(f)); });
}

void Exchange::start_stream(Response header) {
  if (!claim()) return;
  log(header.result_int(), 0);
  streaming_ = true;
  net::dispatch(connection_->executor(),
                [c = connection_, h = std::move(header), ver = request_.version()]() mutable {
                  c->start_stream(std::move(h), ver);
                });
}

bool Exchange::push(StreamBytes bytes, std::function<void()> written, bool catch_up) {
  if (!streaming_) return false;
  return connection_->push(StreamChunk{std::move(bytes), std::move(written), catch_up, {}});
}

void Exchange::cut_stream() {
  if (!streaming_) return;
  net::dispatch(connection_->executor(), [c = connection_] { c->close(); });
}

}  // namespace chaton::http
