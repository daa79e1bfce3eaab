// `chaton archive [--config F] [--room SLUG] [YYYY/MM/DD]`: the archiving of
// docs/STORAGE.md ("Archiving") for one or every room, run directly on each
// room's data directory. Safe beside a running server (and beside an original
// poster or archiver): the store takes the room's lock, and the server reopens
// current.dat when it was replaced. Each room gets one line on stdout and its
// report in logs/archive.log.
//
// A room kept in PostgreSQL (a [store] url) has nothing to split: its
// archive is an export of the database room into its data directory, the
// original day files for every day before the date (postgres/room_transfer.h,
// docs/SCALING.md "Moving a room in and out"), so original tools can read it.
// An export only replaces an earlier export there, never a file-store room
// that was not imported.
#include <filesystem>

#include "cli/commands.h"
#include "postgres/pg_connection.h"
#include "postgres/room_transfer.h"
#include "server/room_store.h"
#include "store/file_archive.h"
#include "util/log_file.h"
#include "util/text.h"

namespace chaton::cli {

namespace {

constexpr std::string_view kMonthNames[] = {"January",   "February", "March",    "April",
                                            "May",       "June",     "July",     "August",
                                            "September", "October",  "November", "December"};

bool all_digits(std::string_view s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
}

// "YYYY/MM/DD" (months and days may have one digit, as the original
// archiver allowed), or a message saying why it is not a date.
Result<Date> parse_day(std::string_view s) {
  auto bad = [&](const std::string& why) {
    return Status(Errc::invalid, "'" + std::string(s) + "' is not a date: " + why);
  };
  size_t a = s.find('/');
  size_t b = a == std::string_view::npos ? a : s.find('/', a + 1);
  if (b == std::string_view::npos) return bad("expected YYYY/MM/DD (a UTC day)");
  std::string_view y = s.substr(0, a), m = s.substr(a + 1, b - a - 1), d = s.substr(b + 1);
  if (y.size() != 4 || m.size() > 2 || d.size() > 2 || !all_digits(y) || !all_digits(m) || !all_digits(d))
    return bad("expected YYYY/MM/DD (a UTC day)");
  Date date{static_cast<int>(*parse_int(y)), static_cast<int>(*parse_int(m)),
            static_cast<int>(*parse_int(d))};
  if (date.month < 1 || date.month > 12) return bad("the month must be 1 to 12");
  if (date.year < 1970) return bad("years before 1970 are not supported");
  if (!is_valid_date(date))
    return bad(std::string(kMonthNames[date.month - 1]) + " " + std::to_string(date.year) + " has " +
               std::to_string(days_in_month(date.year, date.month)) + " days");
  return date;
}

void log_report(const RoomConfig& room, Date today, const std::vector<std::string>& lines) {
  LogFile log(std::filesystem::path(room.data_dir) / "logs" / "archive.log", SystemClock::instance());
  log.write("chaton archive " + format_date_path(today) + ": " + lines.front());
  for (size_t i = 1; i < lines.size(); ++i) log.write("  " + lines[i]);
}

void print_report(const RoomConfig& room, Date today, const std::vector<std::string>& lines,
                  std::ostream& out) {
  out << room.slug << ": " << lines.front() << "\n";
  for (size_t i = 1; i < lines.size(); ++i) out << "  " << lines[i] << "\n";
  log_report(room, today, lines);
}

bool archive_room(const StoreConfig& store, const RoomConfig& room, Date today, std::ostream& out,
                  std::ostream& err) {
  auto report = server::open_room_store(store, room, SystemClock::instance(), kCommandNode)->archive(today);
  if (!report) {
    err << "chaton: room '" << room.slug << "': " << report.status().message() << "\n";
    return false;
  }
  print_report(room, today, describe_archive(*report), out);
  return true;
}

// A PostgreSQL room: its export into the data directory.
bool export_pg_room(postgres::PgConnection& db, const RoomConfig& room, Date today, std::ostream& out,
                 std::ostream& err) {
  auto report = postgres::export_room(db, room.slug, room.data_dir, today, postgres::Overwrite::earlier_copy);
  if (!report && report.status().code() == Errc::not_found) {
    print_report(room, today, {"nothing to export: the room has no posts in the database"}, out);
    return true;
  }
  if (!report) {
    err << "chaton: room '" << room.slug << "': " << report.status().message() << "\n";
    return false;
  }
  print_report(room, today, postgres::describe_export(*report), out);
  return true;
}

}  // namespace

int run_archive(const ArchiveOptions& options, std::ostream& out, std::ostream& err) {
  Date today = today_utc();
  if (!options.date.empty()) {
    auto day = parse_day(options.date);
    if (!day) {
      err << "chaton archive: " << day.status().message() << "\n";
      return kExitBadInput;
    }
    if (*day > next_day(today))
      err << "chaton archive: warning: " << options.date << " is in the future (today is "
          << format_date_path(today) << " UTC); every day before it is closed\n";
    today = *day;
  }
  auto rooms = select_rooms(options.rooms);
  if (!rooms) {
    err << "chaton archive: " << rooms.status().message() << "\n";
    return kExitBadInput;
  }
  bool ok = true;
  if (!rooms->store.url.empty()) {
    if (auto ready = server::prepare_store(rooms->store); !ready) {
      err << "chaton archive: " << ready.status().message() << "\n";
      return kExitFailed;
    }
    postgres::PgConnection db(rooms->store.url);
    for (const RoomConfig& room : rooms->rooms) ok &= export_pg_room(db, room, today, out, err);
    return ok ? kExitOk : kExitFailed;
  }
  for (const RoomConfig& room : rooms->rooms) ok &= archive_room(rooms->store, room, today, out, err);
  return ok ? kExitOk : kExitFailed;
}

}  // namespace chaton::cli
