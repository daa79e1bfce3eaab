// PgConnection: one libpq connection, with errors as values.
//
// A thin owner of a PGconn used by the PostgreSQL store (pg_store.h) and the
// schema migrations (schema.h) from threads that may block: a room's commit
// thread, its blocking and search threads, the offline commands. The
// network threads never block on it; they hear of other nodes' posts
// through NotifyListener (notify_listener.h), which drives its own
// connection from Asio.
//
// The connection is opened lazily and opened again after it broke, so a
// database that went away and came back is used again without a restart.
// A failure to reach the database is Errc::unavailable (HTTP 503, "try
// again later"); any other failed statement is Errc::io. Messages name the
// server by host, port and database, never by the URL, which may hold a
// password (docs/SCALING.md, "Configuration").
//
// Thread-safety: none; one thread at a time (the store guards each of its
// connections with a mutex). Lifetime: none beyond the object.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

struct pg_conn;
struct pg_result;

namespace chaton::postgres {

// How long opening a connection may take before the database counts as
// unreachable.
inline constexpr int kConnectTimeoutSeconds = 5;
// After a failed attempt, how long a connection answers "unreachable" at
// once rather than trying again (so a queue of statements does not wait
// kConnectTimeoutSeconds each while the database is away).
inline constexpr std::chrono::milliseconds kReconnectPause{1000};

// The libpq keywords and values (null-terminated, for
// PQconnectdbParams/PQconnectStartParams with expand_dbname) every
// connection opens with: the URL, kConnectTimeoutSeconds, the application
// name, and TCP keepalives with a send timeout, so a connection whose peer
// vanished (a dropped route, a failed-over address) is noticed within
// about 30 s rather than hours. Points into `url`, which must outlive them.
struct ConnectParams {
  std::vector<const char*> keys;
  std::vector<const char*> values;
};
ConnectParams connect_params(const std::string& url, const char* application);

// A statement's result rows, as text.
class PgResult {
 public:
  PgResult() = default;
  explicit PgResult(pg_result* r);
  PgResult(PgResult&&) noexcept;
  PgResult& operator=(PgResult&&) noexcept;
  ~PgResult();

  int rows() const;
  bool is_null(int row, int col) const;
  std::string_view text(int row, int col) const;
  int64_t int64(int row, int col) const;  // 0 when NULL or not a number

 private:
  pg_result* r_ = nullptr;
};

// A parameter: text, or SQL NULL.
using PgParam = std::optional<std::string>;

class PgConnection {
 public:
  explicit PgConnection(std::string url);
  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  // Runs one statement (no parameters: it may hold several statements).
  [[nodiscard]] Result<PgResult> exec(std::string_view sql);
  // Runs one statement with text parameters $1, $2, ...
  [[nodiscard]] Result<PgResult> exec(std::string_view sql, const std::vector<PgParam>& params);

  // Opens the connection now if it is not open (exec() does so itself).
  [[nodiscard]] Status connect();
  // Closes the connection; the next exec() opens it again.
  void reset();

  // "host:port/dbname", for messages.
  const std::string& where() const { return where_; }

 private:
  std::string url_;
  std::string where_;
  pg_conn* conn_ = nullptr;
  std::chrono::steady_clock::time_point retry_after_{};  // no new attempt before
};

// Returns "host:port/dbname" for `url`, without user or password.
std::string describe_url(std::string_view url);

// Ok for a libpq connection URI (postgresql://...) that libpq accepts and
// that holds no password (it comes from PGPASSFILE or PGPASSWORD, so the
// configuration file holds no secret); Errc::invalid with a reason
// otherwise. Checked when the configuration is read.
[[nodiscard]] Status check_url(std::string_view url);

// libpq's message (which ends with a newline and may hold more lines) as
// one line for the log.
std::string one_line(const char* message);

// Sends the server's notices on `conn` (a warning, or the message of a
// connection the server ended) to the log rather than to stderr.
void log_notices(pg_conn* conn);

// A PostgreSQL array literal of text elements ('{"a","b\"c",NULL}') for a
// text[] parameter: every element quoted, '"' and '\' escaped.
std::string text_array(const std::vector<PgParam>& elements);

}  // namespace chaton::postgres
