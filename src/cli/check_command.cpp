// `chaton check [--config F] [--room SLUG] [--repair]`: verifies each room's
// data directory (store/data_check.h) and prints every problem as
// FILE[:LINE]: what. With --repair, first fixes what is safe to fix (under
// the room lock, so beside a running server too), then checks again. Exits
// 1 when a problem is left.
#include "cli/commands.h"
#include "store/data_check.h"

namespace chaton::cli {

namespace {

// Repairs one room, saying what was fixed and what could not be.
void repair_room(const RoomConfig& room, Date today, std::ostream& out, std::ostream& err) {
  auto report = datacheck::repair(room.data_dir, today);
  if (!report) {
    err << "chaton check: room '" << room.slug << "': " << report.status().message() << "\n";
    return;
  }
  for (const datacheck::Problem& p : report->fixed)
    out << room.slug << ": fixed: " << datacheck::format_problem(p) << "\n";
  for (const std::string& f : report->failures)
    err << "chaton check: room '" << room.slug << "': cannot repair: " << f << "\n";
}

// Checks one room; returns the number of problems found.
size_t check_room(const RoomConfig& room, Date today, bool repaired, std::ostream& out) {
  auto problems = datacheck::check(room.data_dir, today);
  if (problems.empty()) {
    out << room.slug << ": ok (" << room.data_dir << ")\n";
    return 0;
  }
  size_t repairable = 0;
  out << room.slug << ": " << problems.size() << (problems.size() == 1 ? " problem" : " problems") << " in "
      << room.data_dir << "\n";
  for (const datacheck::Problem& p : problems) {
    out << "  " << datacheck::format_problem(p) << "\n";
    repairable += p.repairable;
  }
  if (repairable > 0 && !repaired)
    out << "  (chaton check --repair fixes the " << repairable << " marked repairable)\n";
  return problems.size();
}

}  // namespace

int run_check(const CheckOptions& options, std::ostream& out, std::ostream& err) {
  auto rooms = select_rooms(options.rooms);
  if (!rooms) {
    err << "chaton check: " << rooms.status().message() << "\n";
    return kExitBadInput;
  }
  Date today = today_utc();
  size_t problems = 0;
  for (const RoomConfig& room : *rooms) {
    if (options.repair) repair_room(room, today, out, err);
    problems += check_room(room, today, options.repair, out);
  }
  return problems == 0 ? kExitOk : kExitFailed;
}

}  // namespace chaton::cli
