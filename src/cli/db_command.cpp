// `chaton db init | import | export` (docs/SCALING.md, "Moving a room in and
// out"; docs/CONFIG.md, "The command line"): the PostgreSQL schema, and
// moving one room between its data directory and the database
// (postgres/room_transfer.h). Each needs the configuration's [store] url.
//
// Single-threaded, like every command.
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "cli/commands.h"
#include "postgres/pg_connection.h"
#include "postgres/room_transfer.h"
#include "postgres/schema.h"
#include "server/room_store.h"

namespace chaton::cli {

namespace {

// A failure as an exit code: a refusal or a missing room is the operator's
// input (nothing was written), anything else the database or the disk.
int exit_code(const Status& st) {
  return st.code() == Errc::invalid || st.code() == Errc::not_found ? kExitBadInput : kExitFailed;
}

void print(std::ostream& out, std::string_view slug, const std::vector<std::string>& lines) {
  out << slug << ": " << lines.front() << "\n";
  for (size_t i = 1; i < lines.size(); ++i) out << "  " << lines[i] << "\n";
}

// The configuration's store and --room, checked; the schema made ready.
// nullopt after printing why (exit code in `code`).
std::optional<SelectedRooms> prepare(std::string_view command, const DbOptions& options, bool needs_room,
                                     std::ostream& out, std::ostream& err, int& code) {
  std::string prefix = "chaton db " + std::string(command) + ": ";
  code = kExitBadInput;
  auto rooms = needs_room ? select_one_room(options.rooms) : select_rooms(options.rooms);
  if (!rooms) {
    err << prefix << rooms.status().message() << "\n";
    return std::nullopt;
  }
  if (rooms->store.url.empty()) {
    err << prefix << "the configuration has no [store] url: rooms are kept in their data directories\n";
    return std::nullopt;
  }
  auto line = server::prepare_store(rooms->store);
  if (!line) {
    err << prefix << line.status().message() << "\n";
    code = line.status().code() == Errc::invalid ? kExitBadInput : kExitFailed;
    return std::nullopt;
  }
  out << *line << "\n";
  code = kExitOk;
  return std::move(*rooms);
}

}  // namespace

int run_db_init(const DbOptions& options, std::ostream& out, std::ostream& err) {
  int code = kExitOk;
  prepare("init", options, false, out, err, code);
  return code;
}

int run_db_import(const DbOptions& options, std::ostream& out, std::ostream& err) {
  int code = kExitOk;
  auto rooms = prepare("import", options, true, out, err, code);
  if (!rooms) return code;
  const RoomConfig& room = rooms->rooms.front();
  std::filesystem::path from = options.dir.empty() ? std::filesystem::path(room.data_dir) : std::filesystem::path(options.dir);
  postgres::PgConnection db(rooms->store.url);
  auto report = postgres::import_room(db, room.slug, from);
  if (!report) {
    err << "chaton db import: room '" << room.slug << "': " << report.status().message() << "\n";
    return exit_code(report.status());
  }
  print(out, room.slug, postgres::describe_import(*report));
  return kExitOk;
}

int run_db_export(const DbOptions& options, std::ostream& out, std::ostream& err) {
  int code = kExitOk;
  auto rooms = prepare("export", options, true, out, err, code);
  if (!rooms) return code;
  const RoomConfig& room = rooms->rooms.front();
  std::filesystem::path to = options.dir.empty() ? std::filesystem::path(room.data_dir) : std::filesystem::path(options.dir);
  postgres::PgConnection db(rooms->store.url);
  auto report = postgres::export_room(db, room.slug, to, today_utc(),
                                      options.force ? postgres::Overwrite::always : postgres::Overwrite::never);
  if (!report) {
    err << "chaton db export: room '" << room.slug << "': " << report.status().message() << "\n";
    return exit_code(report.status());
  }
  print(out, room.slug, postgres::describe_export(*report));
  return kExitOk;
}

}  // namespace chaton::cli
