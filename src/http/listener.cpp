// Listener: see listener.h. When accept() fails for lack of descriptors it
// pauses briefly instead of spinning, and goes on.
#include "http/listener.h"

#include <sys/socket.h>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/bind_handler.hpp>

#include "util/log.h"

namespace chaton::http {

namespace net = boost::asio;
using tcp = net::ip::tcp;

Listener::Listener(LoopPool& loops, Handler& handler, const SessionLimits& limits, const TlsProvider& tls)
    : loops_(loops),
      acceptor_(loops.loop(0)),
      backoff_(loops.loop(0)),
      handler_(handler),
      limits_(limits),
      tls_(tls) {}

Status Listener::listen(const tcp::endpoint& endpoint) {
  boost::system::error_code ec;
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
  if (ec)
    return Status(Errc::io, "cannot listen on " + endpoint.address().to_string() + ":" +
                                std::to_string(endpoint.port()) + ": " + ec.message());
  return {};
}

Status Listener::adopt(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0 ||
      (addr.ss_family != AF_INET && addr.ss_family != AF_INET6))
    return Status(Errc::invalid, "descriptor " + std::to_string(fd) + " is not a TCP socket");
  boost::system::error_code ec;
  acceptor_.assign(addr.ss_family == AF_INET6 ? tcp::v6() : tcp::v4(), fd, ec);
  if (ec) return Status(Errc::io, "cannot accept on descriptor " + std::to_string(fd) + ": " + ec.message());
  return {};
}

Result<tcp::endpoint> resolve_listen_address(std::string_view host, uint16_t port) {
  boost::system::error_code ec;
  auto addr = net::ip::make_address(host == "localhost" ? std::string_view("127.0.0.1") : host, ec);
  if (!ec) return tcp::endpoint(addr, port);
  net::io_context io;
  tcp::resolver resolver(io);
  auto results = resolver.resolve(host, std::to_string(port), tcp::resolver::passive, ec);
  if (ec || results.empty())
    return Status(Errc::invalid, "listen: cannot resolve host '" + std::string(host) + "': " +
                                     (ec ? ec.message() : std::string("no address")));
  return results.begin()->endpoint();
}

tcp::endpoint Listener::local_endpoint() const {
  boost::system::error_code ec;
  return acceptor_.local_endpoint(ec);
}

void Listener::run() { do_accept(); }

void Listener::stop() {
  net::dispatch(acceptor_.get_executor(), [self = shared_from_this()] {
    boost::system::error_code ec;
    self->acceptor_.close(ec);
    self->backoff_.cancel();
  });
}

void Listener::do_accept() {
  // The socket belongs to the loop its session will run on.
  acceptor_.async_accept(net::any_io_executor(loops_.next().get_executor()),
                         boost::beast::bind_front_handler(&Listener::on_accept, shared_from_this()));
}

void Listener::on_accept(boost::system::error_code ec, tcp::socket socket) {
  if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
  if (ec) {
    log_error("accept: " + ec.message());
    backoff_.expires_after(std::chrono::milliseconds(100));
    backoff_.async_wait([self = shared_from_this()](boost::system::error_code e) {
      if (!e) self->do_accept();
    });
    return;
  }
  // No Nagle's delay: what a session writes is whole already, and a post's
  // packet must not wait for the acknowledgement of the one before it
  // (docs/ARCHITECTURE.md, "Threads"). A socket that refuses it (its peer
  // already gone) is served as it is.
  boost::system::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  start_session(std::move(socket), handler_, limits_, tls_.enabled() ? tls_.current() : nullptr);
  do_accept();
}

}  // namespace chaton::http
