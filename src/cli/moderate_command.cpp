// `chaton moderate [--config F] --room SLUG (--entry ENTRY-ID | --address CIDR [--since T])`:
// removes posts from a room's live log and its archived days
// (docs/MODERATION.md). Runs directly on the room's data directory and is
// safe beside a running server: the store takes the room's lock, and the
// server notices the change stamp within a second, reloads the room and
// makes its readers refresh. Prints a summary on stdout and appends it to
// logs/moderation.log.
//
// Single-threaded, like every command.
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "access/blacklist.h"
#include "cli/commands.h"
#include "server/room_store.h"
#include "store/post_selector.h"
#include "util/log_file.h"
#include "util/text.h"

namespace chaton::cli {

namespace {

constexpr std::string_view kCommand = "chaton moderate: ";
constexpr int kSecondsPerMinute = 60;
constexpr int kSecondsPerHour = 3600;
constexpr size_t kDateLength = 10;   // YYYY-MM-DD
constexpr size_t kMinuteLength = 5;  // HH:MM
constexpr size_t kSecondLength = 8;  // HH:MM:SS

bool all_digits(std::string_view s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
}

std::optional<int> number(std::string_view s, size_t digits) {
  if (s.size() != digits || !all_digits(s)) return std::nullopt;
  return static_cast<int>(*parse_int(s));
}

// --since: unix seconds, YYYY-MM-DD, or YYYY-MM-DDTHH:MM[:SS] (UTC; a
// trailing Z is allowed).
Result<int64_t> parse_since(std::string_view s) {
  auto bad = [&] {
    return Status(Errc::invalid, "--since '" + std::string(s) +
                                     "' is not a time: expected unix seconds, YYYY-MM-DD or "
                                     "YYYY-MM-DDTHH:MM[:SS] (UTC)");
  };
  if (all_digits(s)) {
    auto v = parse_int(s);
    if (!v) return bad();
    return *v;
  }
  if (!s.empty() && (s.back() == 'Z' || s.back() == 'z')) s.remove_suffix(1);
  if (s.size() < kDateLength || s[4] != '-' || s[7] != '-') return bad();
  auto y = number(s.substr(0, 4), 4), m = number(s.substr(5, 2), 2), d = number(s.substr(8, 2), 2);
  if (!y || !m || !d) return bad();
  Date date{*y, *m, *d};
  if (!is_valid_date(date) || date.year < 1970) return bad();
  int64_t sec = seconds_from_date(date);
  if (s.size() == kDateLength) return sec;
  std::string_view time = s.substr(kDateLength + 1);
  if ((s[kDateLength] != 'T' && s[kDateLength] != 't' && s[kDateLength] != ' ') ||
      (time.size() != kMinuteLength && time.size() != kSecondLength) || time[2] != ':')
    return bad();
  auto hh = number(time.substr(0, 2), 2), mm = number(time.substr(3, 2), 2);
  std::optional<int> ss = 0;
  if (time.size() == kSecondLength) ss = time[5] == ':' ? number(time.substr(6, 2), 2) : std::nullopt;
  if (!hh || !mm || !ss || *hh > 23 || *mm > 59 || *ss > 59) return bad();
  return sec + *hh * kSecondsPerHour + *mm * kSecondsPerMinute + *ss;
}

// --entry: an ENTRY-ID, or a whole permalink (the part after '#').
Result<EntryTime> parse_entry(std::string_view s) {
  std::string_view id = s;
  if (size_t hash = id.rfind('#'); hash != std::string_view::npos) id = id.substr(hash + 1);
  auto entry = parse_entry_id(id);
  if (!entry)
    return Status(Errc::invalid, "--entry '" + std::string(s) +
                                     "' is not an ENTRY-ID: expected entry-<hex>-<hex>, as after "
                                     "the '#' of a post's permalink");
  return *entry;
}

Result<AddressMatcher> parse_address(std::string_view s) {
  std::vector<std::string> errors;
  AddressRanges ranges = AddressRanges::parse(s, &errors);
  if (!errors.empty() || ranges.size() != 1)
    return Status(Errc::invalid, "--address '" + std::string(s) +
                                     "' is not an address or CIDR range (e.g. 192.0.2.7, "
                                     "192.0.2.0/24, 2001:db8::/32)");
  return AddressMatcher([ranges](std::string_view address) { return ranges.contains(address); });
}

// The selector the options name, or why they name none.
Result<PostSelector> selector_of(const ModerateOptions& o) {
  if (o.entry && o.address) return Status(Errc::invalid, "give either --entry or --address, not both");
  if (!o.entry && !o.address)
    return Status(Errc::invalid, "say what to remove: --entry ENTRY-ID or --address CIDR");
  if (o.since && !o.address)
    return Status(Errc::invalid, "--since goes with --address (an entry names one post already)");
  PostSelector selector;
  if (o.entry) {
    auto entry = parse_entry(*o.entry);
    if (!entry) return entry.status();
    selector.entry = *entry;
  }
  if (o.address) {
    auto matcher = parse_address(*o.address);
    if (!matcher) return matcher.status();
    selector.addresses = std::move(*matcher);
  }
  if (o.since) {
    auto since = parse_since(*o.since);
    if (!since) return since.status();
    selector.since_unix = *since;
  }
  return selector;
}

std::string posts(size_t n) { return std::to_string(n) + (n == 1 ? " post" : " posts"); }

std::string what_was_asked(const ModerateOptions& o) {
  if (o.entry) return "--entry " + *o.entry;
  return "--address " + *o.address + (o.since ? " --since " + *o.since : "");
}

// "removed 3 posts (1 live, 2 archived in 2 days)", then one line per day.
std::vector<std::string> describe(const ModerationReport& r) {
  size_t days = r.removed_archived.size();
  std::vector<std::string> lines{"removed " + posts(r.removed_posts) + " (" + std::to_string(r.removed_live) +
                                 " live, " + std::to_string(r.removed_archived_total()) + " archived in " +
                                 std::to_string(days) + (days == 1 ? " day)" : " days)")};
  for (const DayCount& d : r.removed_archived)
    lines.emplace_back(format_date_path(d.date) + ": " + posts(static_cast<size_t>(d.posts)));
  if (r.removed_live > 0) {
    lines.emplace_back("sequence " + std::to_string(r.sequence_before) + " -> " +
                       std::to_string(r.sequence_after) + " (later posts are renumbered)");
  }
  lines.emplace_back("a running server reloads the room within a second; its readers refresh");
  return lines;
}

void log_lines(const RoomConfig& room, const std::string& asked, const std::vector<std::string>& lines) {
  LogFile log(std::filesystem::path(room.data_dir) / "logs" / "moderation.log", SystemClock::instance());
  log.write("chaton moderate " + asked + ": " + lines.front());
  for (size_t i = 1; i < lines.size(); ++i) log.write("  " + lines[i]);
}

}  // namespace

int run_moderate(const ModerateOptions& options, std::ostream& out, std::ostream& err) {
  auto selector = selector_of(options);
  if (!selector) {
    err << kCommand << selector.status().message() << "\n";
    return kExitBadInput;
  }
  auto rooms = select_one_room(options.rooms);
  if (!rooms) {
    err << kCommand << rooms.status().message() << "\n";
    return kExitBadInput;
  }
  const RoomConfig& room = rooms->rooms.front();
  auto report = server::open_room_store(rooms->store, room, SystemClock::instance(), kCommandNode)
                    ->remove_posts(*selector);
  if (!report) {
    err << kCommand << "room '" << room.slug << "': " << report.status().message() << "\n";
    return kExitFailed;
  }
  for (const std::string& note : report->notes) err << kCommand << "warning: " << note << "\n";
  if (!report->removed_any()) {
    out << room.slug << ": no post matches " << what_was_asked(options) << "; nothing was changed\n";
    return kExitFailed;
  }
  std::vector<std::string> lines = describe(*report);
  out << room.slug << ": " << lines.front() << "\n";
  for (size_t i = 1; i < lines.size(); ++i) out << "  " << lines[i] << "\n";
  lines.insert(lines.end(), report->notes.begin(), report->notes.end());
  log_lines(room, what_was_asked(options), lines);
  return kExitOk;
}

}  // namespace chaton::cli
