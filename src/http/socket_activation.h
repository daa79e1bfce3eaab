// Socket activation: the listening socket a service manager (systemd's
// chaton.socket) opened and passed to this process, by the protocol of
// sd_listen_fds(3): the environment holds LISTEN_PID (the process the sockets
// are for) and LISTEN_FDS (how many), and the sockets are descriptors 3, 4, ...
// The server listens on the first one instead of binding `site.listen`, so
// the socket outlives a restart (docs/DEPLOY.md, "Restarts and upgrades").
//
// Thread-safety: take_inherited_listen_socket() reads and changes the
// environment; call it once, at start, before other threads exist.
#pragma once

#include <optional>
#include <string_view>

#include <sys/types.h>

#include "util/result.h"

namespace chaton::http {

// The first descriptor passed by the protocol.
inline constexpr int kListenFdsStart = 3;

// How many sockets were passed to process `self`, given the values of
// LISTEN_PID and LISTEN_FDS (nullopt: unset). 0 when they are unset or name
// another process; an error when they are meant for `self` but are not
// numbers, or LISTEN_FDS is not at least 1.
Result<int> listen_fds_for(std::optional<std::string_view> listen_pid,
                           std::optional<std::string_view> listen_fds, pid_t self);

// The listening socket passed to this process, or nullopt when it was not
// socket-activated. The LISTEN_* variables are removed from the environment
// either way, and the passed descriptors are closed on exec. An error when
// the variables are malformed or descriptor 3 is not a listening TCP socket.
Result<std::optional<int>> take_inherited_listen_socket();

}  // namespace chaton::http
