// The operator commands of `chaton` (docs/CONFIG.md, "The command line") beside
// `serve`: archive, check, moderate, import-conf and db. main.cpp wires CLI11 to
// these; each body lives in its own file (archive_command.cpp,
// check_command.cpp, moderate_command.cpp, import_command.cpp,
// db_command.cpp) and writes to
// the streams it is given, so it can be read as plain text.
//
// Exit codes: 0 done and all well; 1 the command ran but something is wrong
// (a room could not be archived, check found problems); 2 bad input (a date
// that does not exist, an unknown room, an unreadable config), in which case
// no file was touched.
#pragma once

#include <chrono>
#include <istream>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "util/civil_time.h"
#include "util/clock.h"
#include "util/result.h"

namespace chaton::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitBadInput = 2;

// --config FILE, --data DIR and --room SLUG, as every command on rooms takes them.
struct RoomSelection {
  std::string config_file;  // empty: the default configuration (room lobby)
  std::string data_dir;     // --data: replaces site.data_dir, as for `serve`; empty: keep it
  std::string room;         // empty: every room
};

struct ArchiveOptions {
  RoomSelection rooms;
  std::string date;  // YYYY/MM/DD; empty: today (UTC)
};

struct CheckOptions {
  RoomSelection rooms;
  bool repair = false;
};

// `moderate`: exactly one of entry and address; since only with address;
// the room may be left out when the configuration has only one.
// The checks are run_moderate's, so a mistake gets exit code 2 and a
// sentence, not a parser message.
struct ModerateOptions {
  RoomSelection rooms;                 // --room: see select_one_room
  std::optional<std::string> entry;    // ENTRY-ID (or a permalink)
  std::optional<std::string> address;  // an address or CIDR range
  std::optional<std::string> since;    // unix seconds, YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS] (UTC)
};

struct ImportOptions {
  std::string file;
};

// `db init`, `db import`, `db export` (docs/SCALING.md, "Moving a room in
// and out"): the configuration must have a [store] url (else exit 2).
struct DbOptions {
  RoomSelection rooms;  // import and export: one room (select_one_room)
  std::string dir;      // import: --from (default the room's data_dir); export: --to
  bool force = false;   // export: replace the posts a directory has
};

int run_archive(const ArchiveOptions& options, std::ostream& out, std::ostream& err);
// Exit 0 done; 1 the database failed; 2 bad input or refused (an import into
// a room with posts, an export over a directory with posts): nothing written.
int run_db_init(const DbOptions& options, std::ostream& out, std::ostream& err);
int run_db_import(const DbOptions& options, std::ostream& out, std::ostream& err);
int run_db_export(const DbOptions& options, std::ostream& out, std::ostream& err);
int run_check(const CheckOptions& options, std::ostream& out, std::ostream& err);
int run_import(const ImportOptions& options, std::ostream& out, std::ostream& err);
// Exit 0 when posts were removed, 1 when none matched (or the store failed),
// 2 for bad arguments.
int run_moderate(const ModerateOptions& options, std::ostream& out, std::ostream& err);

// The client tools (docs/CLIENT.md), built on chaton::Client: `watch`
// follows rooms until a stop signal; `post` posts one message. Exit codes
// as above: 1 when the server refused (its reason on `err`), 2 for usage.
struct WatchOptions {
  std::vector<std::string> urls;
  bool silent = false;  // -s: no bell
};

struct PostOptions {
  std::string url;
  std::string nick;
  std::optional<std::string> text;  // nullopt: read standard input
};

int run_watch(const WatchOptions& options, std::ostream& out, std::ostream& err);
int run_post(const PostOptions& options, std::istream& in, std::ostream& out, std::ostream& err);

// The rooms a command works on, and where they keep their posts.
struct SelectedRooms {
  StoreConfig store;
  std::vector<RoomConfig> rooms;
};

// The node name the offline commands give a shared store.
inline constexpr std::string_view kCommandNode = "chaton-command";

// The rooms a command works on: the configuration (completed as `serve`
// would) narrowed to --room. The error names the config or the room.
inline Result<SelectedRooms> select_rooms(const RoomSelection& s) {
  Config config = default_config();
  if (!s.config_file.empty()) {
    auto loaded = load_config(s.config_file);
    if (!loaded) return loaded.status();
    config = std::move(loaded.value());
  }
  if (!s.data_dir.empty()) config.site.data_dir = s.data_dir;
  if (Status st = finalize(config); !st) return st;
  if (s.room.empty()) return SelectedRooms{config.store, config.rooms};
  std::string known;
  for (const RoomConfig& r : config.rooms) {
    if (r.slug == s.room) return SelectedRooms{config.store, {r}};
    known += (known.empty() ? "" : ", ") + r.slug;
  }
  std::string where = s.config_file.empty() ? "the default configuration" : s.config_file;
  return Status(Errc::not_found, "no room '" + s.room + "' in " + where + " (rooms: " + known + ")");
}

// The one room a command works on: --room, or when it is left out the only
// room of the configuration (`lobby` without one). The error asks for --room
// when there are several.
inline Result<SelectedRooms> select_one_room(const RoomSelection& s) {
  auto rooms = select_rooms(s);
  if (!rooms || rooms->rooms.size() == 1) return rooms;
  std::string known;
  for (const RoomConfig& r : rooms->rooms) known += (known.empty() ? "" : ", ") + r.slug;
  return Status(Errc::invalid, "--room SLUG is required: say which room (rooms: " + known + ")");
}

// Today's UTC date by the system clock.
inline Date today_utc() { return utc_from_seconds(to_stamp(SystemClock::instance().now()).sec).date; }

}  // namespace chaton::cli
