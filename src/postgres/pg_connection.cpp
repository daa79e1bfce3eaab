// PgConnection: see pg_connection.h.
#include "postgres/pg_connection.h"

#include <libpq-fe.h>

#include <charconv>
#include <utility>

#include "util/log.h"

namespace chaton::postgres {

namespace {

// The parsed keywords of a connection string, freed with the object.
struct ConnInfo {
  PQconninfoOption* options = nullptr;
  std::string error;
  explicit ConnInfo(std::string_view url) {
    char* err = nullptr;
    options = PQconninfoParse(std::string(url).c_str(), &err);
    if (err) {
      error = one_line(err);
      PQfreemem(err);
    }
  }
  ~ConnInfo() {
    if (options) PQconninfoFree(options);
  }
  std::string get(std::string_view key) const {
    for (auto* o = options; o && o->keyword; ++o)
      if (key == o->keyword && o->val) return o->val;
    return {};
  }
};

}  // namespace

PgResult::PgResult(pg_result* r) : r_(r) {}
PgResult::PgResult(PgResult&& o) noexcept : r_(std::exchange(o.r_, nullptr)) {}
PgResult& PgResult::operator=(PgResult&& o) noexcept {
  if (this != &o) {
    if (r_) PQclear(r_);
    r_ = std::exchange(o.r_, nullptr);
  }
  return *this;
}
PgResult::~PgResult() {
  if (r_) PQclear(r_);
}

int PgResult::rows() const { return r_ ? PQntuples(r_) : 0; }
bool PgResult::is_null(int row, int col) const { return !r_ || PQgetisnull(r_, row, col); }
std::string_view PgResult::text(int row, int col) const {
  if (is_null(row, col)) return {};
  return {PQgetvalue(r_, row, col), static_cast<size_t>(PQgetlength(r_, row, col))};
}
int64_t PgResult::int64(int row, int col) const {
  std::string_view t = text(row, col);
  int64_t v = 0;
  std::from_chars(t.data(), t.data() + t.size(), v);
  return v;
}

PgConnection::PgConnection(std::string url) : url_(std::move(url)), where_(describe_url(url_)) {}

PgConnection::~PgConnection() { reset(); }

void PgConnection::reset() {
  if (conn_) PQfinish(conn_);
  conn_ = nullptr;
}

Status PgConnection::connect() {
  if (conn_ && PQstatus(conn_) == CONNECTION_OK) return Status::ok();
  reset();
  std::string timeout = std::to_string(kConnectTimeoutSeconds);
  const char* keys[] = {"dbname", "connect_timeout", "application_name", nullptr};
  const char* values[] = {url_.c_str(), timeout.c_str(), "chaton", nullptr};
  conn_ = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
  if (!conn_ || PQstatus(conn_) != CONNECTION_OK) {
    std::string why = conn_ ? one_line(PQerrorMessage(conn_)) : "out of memory";
    reset();
    return Status(Errc::unavailable, "the database at " + where_ + " is unreachable: " + why);
  }
  log_notices(conn_);
  // Every acknowledged post is committed on the server's disk
  // (docs/SCALING.md, "Durability"), whatever the database's default.
  PGresult* r = PQexec(conn_, "SET synchronous_commit = on; SET client_encoding = 'UTF8'; SET client_min_messages = warning");
  bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
  std::string why = ok ? "" : one_line(PQresultErrorMessage(r));
  PQclear(r);
  if (!ok) {
    reset();
    return Status(Errc::io, "the database at " + where_ + ": " + why);
  }
  return Status::ok();
}

Result<PgResult> PgConnection::exec(std::string_view sql) { return exec(sql, {}); }

Result<PgResult> PgConnection::exec(std::string_view sql, const std::vector<PgParam>& params) {
  if (Status st = connect(); !st) return st;
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const PgParam& p : params) values.push_back(p ? p->c_str() : nullptr);
  std::string text(sql);
  PGresult* raw = params.empty() ? PQexec(conn_, text.c_str())
                                 : PQexecParams(conn_, text.c_str(), static_cast<int>(values.size()), nullptr,
                                                values.data(), nullptr, nullptr, 0);
  PgResult result(raw);
  ExecStatusType st = raw ? PQresultStatus(raw) : PGRES_FATAL_ERROR;
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return result;
  std::string why = raw ? one_line(PQresultErrorMessage(raw)) : one_line(PQerrorMessage(conn_));
  if (PQstatus(conn_) != CONNECTION_OK) {
    // The connection broke (the server went away or restarted): whether a
    // statement under way took effect is unknown to us, so the caller
    // reports a failure and acknowledges nothing.
    reset();
    return Status(Errc::unavailable, "the database at " + where_ + " is unreachable: " + why);
  }
  const char* state = raw ? PQresultErrorField(raw, PG_DIAG_SQLSTATE) : nullptr;
  // Class 08 (connection exception) and 57P (operator intervention: the
  // server is shutting down) mean "try again later".
  std::string_view code = state ? state : "";
  if (code.starts_with("08") || code.starts_with("57P")) {
    reset();
    return Status(Errc::unavailable, "the database at " + where_ + " is unavailable: " + why);
  }
  return Status(Errc::io, "the database at " + where_ + ": " + why);
}

std::string describe_url(std::string_view url) {
  ConnInfo info(url);
  if (!info.options) return "(an unreadable URL)";
  std::string host = info.get("host");
  if (host.empty()) host = info.get("hostaddr");
  if (host.empty()) host = "localhost";
  std::string port = info.get("port");
  std::string db = info.get("dbname");
  return host + (port.empty() ? "" : ":" + port) + "/" + db;
}

Status check_url(std::string_view url) {
  if (!url.starts_with("postgresql://") && !url.starts_with("postgres://"))
    return Status(Errc::invalid, "must be a PostgreSQL connection URI: postgresql://user@host:port/dbname");
  ConnInfo info(url);
  if (!info.options) return Status(Errc::invalid, "is not a connection URI libpq accepts: " + info.error);
  if (!info.get("password").empty())
    return Status(Errc::invalid,
                  "must not hold a password: give it in PGPASSFILE (~/.pgpass) or PGPASSWORD instead");
  return Status::ok();
}

std::string one_line(const char* message) {
  std::string s = message ? message : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  for (char& c : s)
    if (c == '\n' || c == '\t') c = ' ';
  return s;
}

void log_notices(pg_conn* conn) {
  PQsetNoticeProcessor(
      conn, [](void*, const char* message) { log_info("database: " + one_line(message)); }, nullptr);
}

std::string text_array(const std::vector<PgParam>& elements) {
  std::string out = "{";
  for (size_t i = 0; i < elements.size(); ++i) {
    if (i) out += ',';
    if (!elements[i]) {
      out += "NULL";
      continue;
    }
    out += '"';
    for (char c : *elements[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  out += '}';
  return out;
}

}  // namespace chaton::postgres
