// Server: the whole process behind `chaton serve` — every configured room,
// one listener, and a pool of I/O threads (one per core by default), each
// running an event loop of its own (http/loop_pool.h) that the listener
// hands connections to in turn. No thread per connection.
//
// start() binds first (so a port of 0 is resolved and the public URL known),
// then opens every room, so a room that cannot be opened stops the start
// with a clear error. run() blocks until stop() or SIGINT/SIGTERM. Stopping
// takes no new connection, lets the open ones finish (idle ones close,
// waiting readers are told to come back, posts in flight are answered) for
// at most kStopTimeout, then commits what is queued in every room and returns.
//
// The Server is the composition root: the only code that names the
// concrete store (through open_room_store(), room_store.h) and attaches the
// webhooks, and the one that handles the process's signals: SIGINT and
// SIGTERM stop it gracefully (docs/DEPLOY.md, "Stopping and restarting"),
// SIGHUP reloads the TLS certificate, SIGUSR1 reopens the log files, and start() sets
// SIGPIPE and SIGXFSZ to be ignored, process-wide (a failed write is an
// error value, never the end of the process).
//
// Thread-safety: start() and run() from one thread; stop(), and after
// start() waiting_readers(), from any.
// Lifetime: the Clock must outlive the Server.
#pragma once

#include <iosfwd>
#include <memory>
#include <string>
#include <string_view>

#include "config/config.h"
#include "util/civil_time.h"
#include "util/clock.h"
#include "util/result.h"

namespace chaton::server {

class Server {
 public:
  Server(Config config, const Clock& clock);
  ~Server();

  Status start(std::ostream& out);
  void run();
  void stop();

  uint16_t port() const;
  const std::string& public_url() const;

  // Runs the daily archiving (docs/STORAGE.md, "Archiving"; normally at each
  // UTC midnight) now, as of `today`, for every room, and waits for it. For
  // tests; never from an I/O thread.
  Status archive_now(Date today);

  // The readers waiting for news in room `slug` now (Room::waiting_readers;
  // 0 for an unknown room). For tests that must know a long-poll is waiting.
  size_t waiting_readers(std::string_view slug) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace chaton::server
