// `chaton check [--config F] [--room SLUG] [--repair]`: verifies each room's
// data directory (store/data_check.h) and prints every problem as
// FILE[:LINE]: what. With --repair, first fixes what is safe to fix (under
// the room lock, so beside a running server too), then checks again. Exits
// 1 when a problem is left. The room's search index (data/search.idx) is
// reported when it is missing, unreadable or stale, but is never a problem:
// a search brings it up to date and never answers wrong meanwhile;
// --repair rebuilds it (docs/STORAGE.md, "search.idx").
#include <filesystem>

#include "cli/commands.h"
#include "search/search_index.h"
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

bool has_data_dir(const RoomConfig& room) {
  std::error_code ec;
  return std::filesystem::is_directory(std::filesystem::path(room.data_dir) / "data", ec);
}

// Rebuilds the room's search index unless it is up to date.
void repair_index(const RoomConfig& room, std::ostream& out, std::ostream& err) {
  if (!has_data_dir(room)) return;
  auto health = search::SearchIndex::check(room.data_dir);
  if (health.state == search::SearchIndex::State::ok) return;
  search::SearchIndex index(room.data_dir);
  if (Status st = index.rebuild(); !st) {
    err << "chaton check: room '" << room.slug << "': cannot rebuild the search index: " << st.message()
        << "\n";
    return;
  }
  auto stats = index.stats();
  out << room.slug << ": fixed: search index " << index.path().string()
      << (health.state == search::SearchIndex::State::missing ? " built" : " rebuilt") << " (" << stats.posts
      << " posts, " << stats.day_files << " day files, " << stats.file_bytes << " bytes)\n";
}

// Says what is amiss with the room's search index, if anything.
void report_index(const RoomConfig& room, std::ostream& out) {
  if (!has_data_dir(room)) return;
  auto health = search::SearchIndex::check(room.data_dir);
  switch (health.state) {
    case search::SearchIndex::State::ok:
      return;
    case search::SearchIndex::State::missing:
      out << room.slug
          << ": note: no search index yet (the first search builds it; --repair builds it now)\n";
      return;
    case search::SearchIndex::State::unreadable:
    case search::SearchIndex::State::stale:
      out << room.slug << ": note: search index "
          << (health.state == search::SearchIndex::State::stale ? "stale: " : "unreadable: ") << health.detail
          << " (the next search brings it up to date; --repair rebuilds it)\n";
      return;
  }
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
  if (!rooms->store.url.empty()) {
    // The files it checks are the file store's; a database keeps its own
    // consistency (docs/SCALING.md).
    out << "the rooms keep their posts in PostgreSQL ([store] url): there are no room files to check; "
           "`chaton db export` writes them out\n";
    return kExitOk;
  }
  Date today = today_utc();
  size_t problems = 0;
  for (const RoomConfig& room : rooms->rooms) {
    if (options.repair) {
      repair_room(room, today, out, err);
      repair_index(room, out, err);
    }
    problems += check_room(room, today, options.repair, out);
    report_index(room, out);
  }
  return problems == 0 ? kExitOk : kExitFailed;
}

}  // namespace chaton::cli
