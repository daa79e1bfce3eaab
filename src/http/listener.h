// Listener: accepts connections and starts a session for each (HTTPS when
// TLS is configured). It accepts on loop 0 of the LoopPool and hands each
// connection to the next loop (LoopPool::next()), where its session runs on
// the loop's own executor, with no strand (one thread runs each loop).
//
// Thread-safety: runs on loop 0; stop() from any thread. Lifetime: the
// LoopPool, the Handler and limits must outlive it; it keeps itself alive
// while accepting.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "http/loop_pool.h"
#include "http/session.h"
#include "http/tls_context.h"
#include "util/result.h"

namespace chaton::http {

class Listener : public std::enable_shared_from_this<Listener> {
 public:
  // `tls` serves HTTPS when enabled; it must outlive the listener.
  Listener(LoopPool& loops, Handler& handler, const SessionLimits& limits, const TlsProvider& tls);
  Status listen(const boost::asio::ip::tcp::endpoint& endpoint);
  // Accepts on `fd`, a listening TCP socket opened by someone else (socket
  // activation, http/socket_activation.h); the listener owns it from now on.
  Status adopt(int fd);
  boost::asio::ip::tcp::endpoint local_endpoint() const;
  void run();
  void stop();

 private:
  void do_accept();
  void on_accept(boost::system::error_code ec, boost::asio::ip::tcp::socket socket);

  LoopPool& loops_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer backoff_;
  Handler& handler_;
  const SessionLimits& limits_;
  const TlsProvider& tls_;
};

// The endpoint `site.listen`'s HOST and PORT name: an IP address as it is,
// "localhost" as 127.0.0.1, any other name resolved by the system (its first
// address). An error names the host when it does not resolve.
Result<boost::asio::ip::tcp::endpoint> resolve_listen_address(std::string_view host, uint16_t port);

}  // namespace chaton::http
