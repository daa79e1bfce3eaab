// Moderation in the file store (docs/STORAGE.md "Moderation",
// docs/MODERATION.md): FileStore::remove_posts and FileStore::change_stamp.
//
// remove_posts takes out the posts a PostSelector matches:
//   1. without the lock, it reads the archived day files that may hold a
//      match (the entry's day, or every day from --since on) and notes which
//      do, so a long history is read while posting goes on;
//   2. under the room lock (the one append() and archive() take):
//      a. current.dat is rewritten without the matching lines the way
//         archiving rewrites it (replace_current: temporary file, fsync,
//         backup link, rename, directory fsync), and the backup, which
//         holds the removed text, is deleted; current.base records the
//         same base for the new file, and `sequence` becomes base + the posts
//         left, so the posts after a removed one move down by one each;
//         `last-post` follows when the newest post went;
//      b. every day file with a match is rewritten (DD.dat, then DD.cnt with
//         the new count; temporary file, fsync, rename). A DD.dat that is a
//         symbolic link (today's, tomorrow's) is never written through: its
//         posts are current.dat's. A day that became a real file after step 1
//         (an archiver ran meanwhile) is read again here;
//      c. data/moderated, a decimal counter, is bumped (temporary file and
//         rename), which is what a running server watches (change_stamp) to
//         reload the room.
// Every other line is kept byte for byte, unreadable lines included.
//
// Thread-safety: like FileStore's other writers. The lock is taken on a
// descriptor of its own, and open-file-description locks exclude each
// other within a process too, so this may run beside append() and
// archive() of the same object, of another object, or of another process.
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <set>
#include <string>
#include <string_view>
#include <system_error>
#include <tuple>
#include <vector>

#include "messages/line_codec.h"
#include "store/file_archive.h"
#include "store/file_io.h"
#include "store/file_store.h"
#include "store/post_selector.h"
#include "util/text.h"

namespace chaton {

namespace fs = std::filesystem;
using fileio::Entry;
using fileio::Sync;

namespace {

using fileio::kBaseName;
using fileio::kCurrentName;
using fileio::kLastPostName;
using fileio::kSequenceName;
constexpr std::string_view kStampName = "moderated";
constexpr mode_t kPermissionBits = 07777;

// What makes two stored lines the same post (a post the live log keeps is
// also in its day file).
using PostKey = std::tuple<int64_t, int64_t, std::string, std::string>;
PostKey key_of(const Post& p) { return {p.sec, p.usec, p.nick, p.text}; }

// A log's content without the lines of the matching posts.
struct Filtered {
  std::string content;                   // every other line as it was
  size_t kept = 0;                       // readable posts left
  std::vector<Post> removed;             // the posts taken out, in file order
  bool last_removed = false;             // the last readable post was taken out
  std::optional<int64_t> last_kept_sec;  // time of the last readable post left
};

Filtered filter_lines(std::string_view content, const PostSelector& selector) {
  Filtered f;
  f.content.reserve(content.size());
  size_t start = 0;
  while (start < content.size()) {
    size_t end = content.find('\n', start);
    size_t next = end == std::string_view::npos ? content.size() : end + 1;
    std::string_view line = content.substr(start, (end == std::string_view::npos ? next : end) - start);
    std::string_view whole = content.substr(start, next - start);
    start = next;
    std::optional<Post> post = trim(line).empty() ? std::nullopt : decode_line(line);
    if (post && selector.matches(*post)) {
      f.removed.push_back(std::move(*post));
      f.last_removed = true;
      continue;
    }
    f.content += whole;
    if (post) {
      ++f.kept;
      f.last_kept_sec = post->sec;
      f.last_removed = false;
    }
  }
  return f;
}

bool has_match(std::string_view content, const PostSelector& selector) {
  for (const Post& p : parse_log(content).posts)
    if (selector.matches(p)) return true;
  return false;
}

// The archived days that may hold a match, ascending.
std::vector<Date> candidate_days(const fs::path& data_dir, const PostSelector& selector) {
  if (selector.entry) return {fileio::day_of(selector.entry->sec)};
  std::vector<Date> days;
  for (auto [year, month] : archived_months(data_dir))
    for (const DayCount& d : archived_days_in_month(data_dir, year, month))
      if (selector.may_match_day(d.date)) days.push_back(d.date);
  return days;
}

// Step 1: which real day files hold a match, read without the lock.
struct DayScan {
  std::vector<Date> candidates;  // days that may hold a match, ascending
  std::set<Date> real;           // of those, the days that were real files
  std::set<Date> matched;        // of those, the ones with a match (or unreadable)
};

DayScan scan_days(const fs::path& data_dir, const PostSelector& selector) {
  DayScan scan;
  scan.candidates = candidate_days(data_dir, selector);
  for (Date day : scan.candidates) {
    fs::path path = fileio::day_file(data_dir, day);
    if (fileio::entry_kind(path) != Entry::regular) continue;
    scan.real.insert(day);
    auto content = read_file(path);
    if (!content || has_match(*content, selector)) scan.matched.insert(day);
  }
  return scan;
}

mode_t mode_of(const fs::path& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? st.st_mode & kPermissionBits : fileio::kFileMode;
}

void note_error(ModerationReport& report, const Status& st, const std::string& consequence) {
  if (!st) report.notes.push_back(st.message() + "; " + consequence);
}

// Step 2a.
Status remove_from_live(const fs::path& data_dir, const PostSelector& selector, ModerationReport& report,
                        std::set<PostKey>& removed) {
  auto log = read_live_log(data_dir);
  if (!log) return log.status();
  const uint64_t posts = log->posts.size();
  // Numbered by the rule open() and archiving use.
  const uint64_t base = fileio::live_numbering(data_dir, posts).base;
  report.sequence_before = report.sequence_after = base + posts;
  if (!log->exists) return Status::ok();
  Filtered f = filter_lines(log->content, selector);
  if (f.removed.empty()) return Status::ok();
  if (Status st = replace_current(data_dir, *log, f.content); !st) return st;
  report.removed_live = f.removed.size();
  for (const Post& p : f.removed) removed.insert(key_of(p));
  report.sequence_after = base + f.kept;

  // The same base for the new file, then the sequence that goes with it.
  // Either failing leaves a numbering open() still makes consistent (posts
  // counted back from `sequence`), only not moved down.
  note_error(report,
             fileio::write_current_base(data_dir / kBaseName, data_dir / kCurrentName, base, Sync::yes),
             "posts after the removed ones may keep their numbers");
  note_error(report,
             fileio::replace_file(data_dir / kSequenceName, std::to_string(report.sequence_after), Sync::yes),
             "posts after the removed ones may keep their numbers");
  if (f.last_removed && f.last_kept_sec)
    note_error(report, fileio::replace_file(data_dir / kLastPostName, std::to_string(*f.last_kept_sec)),
               "the room's last-post time still names a removed post");
  // The backup replace_current kept holds the removed text: it goes too.
  if (Status st = drop_current_backup(data_dir); !st)
    note_error(report, st, "the removed posts are still in current.dat.bak");
  return Status::ok();
}

// Step 2b for one day.
Status remove_from_day(const fs::path& data_dir, Date day, const PostSelector& selector,
                       ModerationReport& report, std::set<PostKey>& removed) {
  fs::path path = fileio::day_file(data_dir, day);
  auto content = read_file(path);
  if (!content) return Status(Errc::io, content.status().message());
  Filtered f = filter_lines(*content, selector);
  if (f.removed.empty()) return Status::ok();
  mode_t mode = mode_of(path);
  if (Status st = fileio::replace_file(path, f.content, Sync::yes, mode); !st) return st;
  report.removed_archived.push_back(DayCount{day, f.removed.size()});
  for (const Post& p : f.removed) removed.insert(key_of(p));
  note_error(report,
             fileio::replace_file(fileio::count_file(data_dir, day),
                                  std::to_string(count_posts_of_day(f.content, day)), Sync::yes, mode),
             "`chaton check --repair` rewrites the count");
  return Status::ok();
}

// Step 2b: the days with a match, and the days that became real files
// after the scan. The list of days is the scan's: an archiver that ran
// since could only have made real files of days that were in current.dat,
// and those were listed already.
Status remove_from_days(const fs::path& data_dir, const PostSelector& selector, const DayScan& scan,
                        ModerationReport& report, std::set<PostKey>& removed) {
  for (Date day : scan.candidates) {
    if (fileio::entry_kind(fileio::day_file(data_dir, day)) != Entry::regular) continue;
    if (scan.real.contains(day) && !scan.matched.contains(day)) continue;
    if (Status st = remove_from_day(data_dir, day, selector, report, removed); !st) return st;
  }
  return Status::ok();
}

// Step 2c.
Status bump_stamp(const fs::path& data_dir) {
  fs::path path = data_dir / kStampName;
  int64_t next = fileio::read_number_file(path).value_or(0) + 1;
  return fileio::replace_file(path, std::to_string(next));
}

}  // namespace

Result<ModerationReport> FileStore::remove_posts(const PostSelector& selector) {
  if (!selector.entry && !selector.addresses)
    return Status(Errc::invalid, "nothing selected: name an entry or an address range");
  const fs::path data_dir = datadir_ / "data";
  std::error_code ec;
  if (!fs::is_directory(data_dir, ec))
    return Status(Errc::not_found, "no data directory " + data_dir.string());

  DayScan scan = scan_days(data_dir, selector);

  fileio::Fd lock_fd;
  const fs::path lock_path = datadir_ / "lock";
  if (Status st = fileio::open_lock_file(lock_path, lock_fd); !st) return st;
  fileio::LockGuard lock(lock_fd.get());
  if (!lock.locked()) return Status(Errc::io, fileio::io_message("cannot lock", lock_path, errno));

  ModerationReport report;
  std::set<PostKey> removed;
  Status st = remove_from_live(data_dir, selector, report, removed);
  if (st) st = remove_from_days(data_dir, selector, scan, report, removed);
  report.removed_posts = removed.size();
  if (report.removed_any()) {
    // Even after a failure part way: what was removed must reach the server.
    if (Status bumped = bump_stamp(data_dir); !bumped)
      report.notes.push_back(bumped.message() +
                             "; a running server does not see the change until it restarts");
  }
  if (!st) {
    if (!report.removed_any()) return st;
    return Status(st.code(), st.message() + " (after removing " + std::to_string(report.removed_posts) +
                                 (report.removed_posts == 1 ? " post" : " posts") +
                                 "; running the command again finishes the job)");
  }
  return report;
}

std::string FileStore::change_stamp() {
  auto content = read_file(datadir_ / "data" / kStampName);
  return content ? std::string(trim(*content)) : std::string();
}

}  // namespace chaton
