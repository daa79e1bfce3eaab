// Socket activation: see socket_activation.h.
#include "http/socket_activation.h"

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <string>

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace chaton::http {

namespace {

std::optional<long> parse_number(std::string_view s) {
  long v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

std::optional<std::string_view> env(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr) return std::nullopt;
  return std::string_view(v);
}

}  // namespace

Result<int> listen_fds_for(std::optional<std::string_view> listen_pid,
                           std::optional<std::string_view> listen_fds, pid_t self) {
  if (!listen_pid || !listen_fds) return 0;
  auto pid = parse_number(*listen_pid);
  if (!pid) return Status(Errc::invalid, "socket activation: LISTEN_PID '" + std::string(*listen_pid) +
                                             "' is not a process id");
  if (*pid != self) return 0;  // meant for another process (our parent, say)
  auto n = parse_number(*listen_fds);
  if (!n || *n < 1 || *n > 1024)
    return Status(Errc::invalid,
                  "socket activation: LISTEN_FDS '" + std::string(*listen_fds) + "' is not a count from 1");
  return static_cast<int>(*n);
}

Result<std::optional<int>> take_inherited_listen_socket() {
  Result<int> n = listen_fds_for(env("LISTEN_PID"), env("LISTEN_FDS"), ::getpid());
  ::unsetenv("LISTEN_PID");
  ::unsetenv("LISTEN_FDS");
  ::unsetenv("LISTEN_FDNAMES");
  if (!n) return n.status();
  if (*n == 0) return std::optional<int>();
  for (int fd = kListenFdsStart; fd < kListenFdsStart + *n; ++fd) {
    int flags = ::fcntl(fd, F_GETFD);
    if (flags >= 0) ::fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
  }
  const int fd = kListenFdsStart;
  int type = 0, listening = 0;
  socklen_t len = sizeof type;
  sockaddr_storage addr{};
  socklen_t addr_len = sizeof addr;
  if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0)
    return Status(Errc::invalid, std::string("socket activation: descriptor 3 is not a socket: ") +
                                     std::strerror(errno));
  len = sizeof listening;
  if (type != SOCK_STREAM || ::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 ||
      !listening || ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &addr_len) != 0 ||
      (addr.ss_family != AF_INET && addr.ss_family != AF_INET6))
    return Status(Errc::invalid,
                  "socket activation: descriptor 3 is not a listening TCP socket (ListenStream= an address "
                  "and port)");
  return std::optional<int>(fd);
}

}  // namespace chaton::http
