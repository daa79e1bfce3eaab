// The listener: a connection it accepts sends without Nagle's delay, so a
// post's packet does not wait in the kernel, by Nagle's rule, for the
// acknowledgement of the one before it (docs/ARCHITECTURE.md, "Threads").
#include "http/listener.h"

#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <optional>

#include "config/config.h"
#include "http/exchange.h"

namespace chaton::http {
namespace {

namespace net = boost::asio;
using net::ip::tcp;

class Unused : public Handler {
 public:
  void handle(const ExchangePtr&) override {}
  UpgradeDecision upgrade(const Request&, const std::string&) override { return {}; }
};

uint16_t port_of(const sockaddr_storage& a) {
  return a.ss_family == AF_INET ? ntohs(reinterpret_cast<const sockaddr_in&>(a).sin_port) : 0;
}

// The TCP_NODELAY setting of this process's socket whose ends are `local`
// and `peer` (ports on 127.0.0.1), if it has one.
std::optional<bool> no_delay_of_socket(uint16_t local, uint16_t peer) {
  DIR* dir = opendir("/proc/self/fd");
  if (!dir) return std::nullopt;
  std::optional<bool> found;
  while (dirent* e = readdir(dir)) {
    const int fd = std::atoi(e->d_name);
    sockaddr_storage here{}, there{};
    socklen_t here_size = sizeof here, there_size = sizeof there;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&here), &here_size) != 0) continue;
    if (getpeername(fd, reinterpret_cast<sockaddr*>(&there), &there_size) != 0) continue;
    if (port_of(here) != local || port_of(there) != peer) continue;
    int on = 0;
    socklen_t size = sizeof on;
    if (getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, &size) == 0) found = on != 0;
  }
  closedir(dir);
  return found;
}

TEST(Listener, AnAcceptedConnectionSendsWithoutNaglesDelay) {
  LoopPool loops(1);
  Unused handler;
  SessionLimits limits;
  TlsProvider tls{SiteConfig{}};
  auto listener = std::make_shared<Listener>(loops, handler, limits, tls);
  ASSERT_TRUE(listener->listen(tcp::endpoint(net::ip::address_v4::loopback(), 0)));
  listener->run();

  net::io_context client_io;
  tcp::socket client(client_io);
  client.connect(listener->local_endpoint());
  const uint16_t server_port = listener->local_endpoint().port();
  const uint16_t client_port = client.local_endpoint().port();

  // The accept completes on loop 0; a bounded number of turns, each waiting
  // for the loop's next event.
  std::optional<bool> no_delay;
  for (int turn = 0; turn < 50 && !no_delay; ++turn) {
    loops.loop(0).run_one_for(std::chrono::milliseconds(100));
    no_delay = no_delay_of_socket(server_port, client_port);
  }
  ASSERT_TRUE(no_delay.has_value()) << "the accepted socket was not found";
  EXPECT_TRUE(*no_delay);
  listener->stop();
}

}  // namespace
}  // namespace chaton::http
