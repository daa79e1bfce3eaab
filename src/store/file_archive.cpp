// The archive side of the file store: see file_archive.h, and docs/STORAGE.md,
// "Archiving".
//
// Archiving, under the room lock:
//   1. read current.dat; unreadable lines are skipped and noted;
//   2. for every UTC day from the oldest post up to yesterday, write DD.dat
//      (the day's lines as they were written) and DD.cnt, each synced, unless
//      DD.dat is already a real file (left alone, noted); a symlink there is
//      replaced atomically;
//   3. make sure data/sequence is at least the room's post count, so that
//      cutting current.dat never lets positions go back;
//   4. keep in current.dat the posts of today and later, and never fewer than
//      its last kMinPostsKept posts: written to a temporary file, synced, the
//      old file hard-linked to current.dat.bak, the new one renamed into place
//      (the live path is never missing), the directory synced. When the
//      result equals the file as it is, nothing is written;
//   5. make today's and tomorrow's DD.dat symlinks to ../../current.dat.
// Day files are durable before current.dat loses a post, so a crash at any
// point loses nothing; a rerun skips what was done and changes nothing.
//
// A post leaves current.dat only once it is in its day file. A post can
// reach current.dat after its day was archived: it was stamped just before
// midnight and committed just after the archiver ran, or an original poster
// script was slow. Its day file is a real file that must not be rewritten,
// so such a post stays in current.dat (noted in the report), and reading
// that day shows it with the day file's posts, so its permalink works.
#include "store/file_archive.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <map>
#include <set>
#include <string_view>
#include <system_error>
#include <tuple>

#include "messages/line_codec.h"
#include "store/file_io.h"
#include "util/text.h"

namespace chaton {

namespace fs = std::filesystem;
using fileio::Entry;
using fileio::Fd;
using fileio::io_message;
using fileio::Sync;

namespace {

using fileio::kBaseName;
using fileio::kCurrentName;
using fileio::kSequenceName;
constexpr std::string_view kCurrentTmpName = "current.dat.tmp";
constexpr std::string_view kBackupName = "current.dat.bak";
constexpr size_t kDaysListedInSummary = 10;
constexpr mode_t kPermissionBits = 07777;

// The non-blank lines of a log with their 1-based numbers, split and
// numbered exactly as parse_log() does.
std::vector<std::pair<size_t, std::string_view>> numbered_lines(std::string_view content) {
  std::vector<std::pair<size_t, std::string_view>> out;
  size_t number = 0;
  size_t start = 0;
  while (start < content.size()) {
    size_t end = content.find('\n', start);
    if (end == std::string_view::npos) end = content.size();
    std::string_view line = content.substr(start, end - start);
    ++number;
    start = end + 1;
    if (!trim(line).empty()) out.emplace_back(number, line);
  }
  return out;
}

// Pairs every post parse_log() read with its line (a trailing "\r" dropped).
std::vector<std::string> lines_of_posts(std::string_view content, const ParsedLog& parsed) {
  std::vector<std::string> lines;
  size_t bad = 0;
  for (auto [number, text] : numbered_lines(content)) {
    if (bad < parsed.bad.size() && parsed.bad[bad].line_number == number) {
      ++bad;
      continue;
    }
    if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
    lines.emplace_back(text);
  }
  if (lines.size() != parsed.posts.size()) {  // never expected; stay correct anyway
    lines.clear();
    for (const Post& p : parsed.posts) lines.push_back(encode_line(p));
  }
  return lines;
}

}  // namespace

Result<LiveLog> read_live_log(const fs::path& data_dir) {
  fs::path path = data_dir / kCurrentName;
  LiveLog log;
  auto content = read_file(path);
  if (!content) {
    if (content.status().code() == Errc::not_found) return log;
    return content.status();
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) log.mode = st.st_mode & kPermissionBits;
  log.exists = true;
  log.content = std::move(*content);
  ParsedLog parsed = parse_log(log.content);
  log.lines = lines_of_posts(log.content, parsed);
  log.posts = std::move(parsed.posts);
  log.bad = std::move(parsed.bad);
  return log;
}

namespace {

// What makes a post the same post in two files.
using PostKey = std::tuple<int64_t, int64_t, std::string, std::string>;
PostKey key_of(const Post& p) { return {p.sec, p.usec, p.nick, p.text}; }

std::set<PostKey> keys_of(const std::vector<Post>& posts) {
  std::set<PostKey> keys;
  for (const Post& p : posts) keys.insert(key_of(p));
  return keys;
}

// The posts of `candidates` that are not in `archived`.
std::vector<Post> missing_from(const std::vector<Post>& archived, std::vector<Post> candidates) {
  std::set<PostKey> have = keys_of(archived);
  std::erase_if(candidates, [&](const Post& p) { return have.contains(key_of(p)); });
  return candidates;
}

std::string join_lines(const LiveLog& log, const std::vector<size_t>& indexes) {
  std::string out;
  for (size_t i : indexes) {
    out += log.lines[i];
    out.push_back('\n');
  }
  return out;
}

// "2024/11/20, 2024/11/22 to 2024/11/25": consecutive days as one run.
std::string format_date_runs(const std::vector<Date>& days) {
  std::string out;
  for (size_t i = 0; i < days.size();) {
    size_t j = i;
    while (j + 1 < days.size() && days[j + 1] == next_day(days[j])) ++j;
    if (!out.empty()) out += ", ";
    out += format_date_path(days[i]);
    if (j > i) out += " to " + format_date_path(days[j]);
    i = j + 1;
  }
  return out;
}

// A day already archived as a real file: left alone. Adds to `late` the
// posts of current.dat it lacks, which must then stay in current.dat.
void check_archived_day(const fs::path& path, Date day, const LiveLog& log,
                        const std::vector<size_t>& indexes, ArchiveReport& report,
                        std::vector<size_t>& late) {
  if (indexes.empty()) return;
  auto content = read_file(path);
  std::set<PostKey> have = keys_of(content ? parse_log(*content).posts : std::vector<Post>{});
  size_t before = late.size();
  for (size_t i : indexes)
    if (!have.contains(key_of(log.posts[i]))) late.push_back(i);
  if (size_t n = late.size() - before; n > 0)
    report.notes.push_back(std::to_string(n) + (n == 1 ? " post of " : " posts of ") + format_date_path(day) +
                           (n == 1 ? " is not in " : " are not in ") + path.string() +
                           (content ? "" : " (unreadable)") +
                           (n == 1 ? "; it stays in current.dat and is shown with that day"
                                   : "; they stay in current.dat and are shown with that day"));
}

// Step 2 for one day. Returns an error only when the day cannot be made
// safe to remove from current.dat.
Status archive_day(const fs::path& data_dir, Date day, const LiveLog& log, const std::vector<size_t>& indexes,
                   ArchiveReport& report, std::vector<Date>& already, std::vector<size_t>& late) {
  fs::path path = fileio::day_file(data_dir, day);
  Entry kind = fileio::entry_kind(path);
  if (kind == Entry::regular) {
    already.push_back(day);
    check_archived_day(path, day, log, indexes, report, late);
    return Status::ok();
  }
  if (kind != Entry::missing && kind != Entry::symlink)
    return Status(Errc::io, path.string() + " is neither a file nor a link; the day " +
                                format_date_path(day) + " cannot be archived");
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  if (ec) return Status(Errc::io, "cannot create " + path.parent_path().string() + ": " + ec.message());
  if (Status st = fileio::replace_file(path, join_lines(log, indexes), Sync::yes, log.mode); !st) return st;
  if (Status st = fileio::replace_file(fileio::count_file(data_dir, day), std::to_string(indexes.size()),
                                       Sync::yes, log.mode);
      !st)
    return st;
  report.written.push_back(DayCount{day, indexes.size()});
  return Status::ok();
}

// Step 2 for every day from the oldest post up to yesterday. `late`: posts
// that must stay in current.dat although their day is over.
Status archive_days(const fs::path& data_dir, Date today, const LiveLog& log, ArchiveReport& report,
                    std::vector<size_t>& late) {
  std::map<Date, std::vector<size_t>> by_day;
  for (size_t i = 0; i < log.posts.size(); ++i) by_day[fileio::day_of(log.posts[i].sec)].push_back(i);
  if (by_day.empty()) return Status::ok();
  static const std::vector<size_t> kNone;
  std::vector<Date> already;
  for (Date d = by_day.begin()->first; d < today; d = next_day(d)) {
    auto it = by_day.find(d);
    Status st = archive_day(data_dir, d, log, it == by_day.end() ? kNone : it->second, report, already, late);
    if (!st) return st;
  }
  if (!already.empty())
    report.notes.push_back("already archived, left as they are: " + format_date_runs(already));
  return Status::ok();
}

// Step 3.
Status ensure_sequence(const fs::path& data_dir, uint64_t at_least, ArchiveReport& report) {
  fs::path path = data_dir / kSequenceName;
  auto on_disk = fileio::read_number_file(path);
  if (on_disk && static_cast<uint64_t>(*on_disk) >= at_least) return Status::ok();
  if (Status st = fileio::replace_file(path, std::to_string(at_least), Sync::yes); !st) return st;
  report.notes.push_back(
      path.string() + (on_disk ? " said " + std::to_string(*on_disk) : " was missing or unreadable") +
      "; set to " + std::to_string(at_least) + " before cutting current.dat, so positions do not go back");
  return Status::ok();
}

// The posts current.dat keeps: today and later, at least its last
// kMinPostsKept, and the late ones.
std::vector<size_t> posts_to_keep(const LiveLog& log, Date today, const std::vector<size_t>& late) {
  std::set<size_t> stays(late.begin(), late.end());
  std::vector<size_t> keep;
  size_t n = log.posts.size();
  for (size_t i = 0; i < n; ++i)
    if (i + kMinPostsKept >= n || fileio::day_of(log.posts[i].sec) >= today || stays.contains(i))
      keep.push_back(i);
  return keep;
}

// Keeps the old current.dat as current.dat.bak: a hard link, so the live
// path is never missing; a copy where links are not supported.
Status keep_backup(const fs::path& data_dir, const LiveLog& log) {
  fs::path current = data_dir / kCurrentName;
  fs::path backup = data_dir / kBackupName;
  if (::unlink(backup.c_str()) != 0 && errno != ENOENT)
    return Status(Errc::io, io_message("cannot remove", backup, errno));
  if (::link(current.c_str(), backup.c_str()) == 0) return Status::ok();
  return fileio::replace_file(backup, log.content, Sync::no, log.mode);
}

}  // namespace

Status drop_current_backup(const fs::path& data_dir) {
  fs::path backup = data_dir / kBackupName;
  if (::unlink(backup.c_str()) != 0) {
    if (errno == ENOENT) return Status::ok();
    return Status(Errc::io, io_message("cannot remove", backup, errno));
  }
  return fileio::sync_directory(data_dir);
}

// Step 4: writes the new current.dat beside the old and renames it in.
Status replace_current(const fs::path& data_dir, const LiveLog& log, std::string_view content) {
  fs::path current = data_dir / kCurrentName;
  fs::path tmp = data_dir / kCurrentTmpName;
  {
    Fd fd(fileio::open_retry(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, log.mode));
    if (!fd.valid()) return Status(Errc::io, io_message("cannot create", tmp, errno));
    ::fchmod(fd.get(), log.mode);  // the umask may have narrowed it
    if (!fileio::write_all(fd.get(), content) || ::fsync(fd.get()) != 0) {
      int err = errno;
      ::unlink(tmp.c_str());
      return Status(Errc::io, io_message("cannot write", tmp, err));
    }
  }
  if (Status st = keep_backup(data_dir, log); !st) {
    ::unlink(tmp.c_str());
    return st;
  }
  if (::rename(tmp.c_str(), current.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return Status(Errc::io, io_message("cannot rename into place", current, err));
  }
  return fileio::sync_directory(data_dir);
}

namespace {

// Step 4, and the numbering of the file it leaves: the kept posts are the
// last `kept` of `sequence` (current.base says so for the new file).
Status cut_current(const fs::path& data_dir, Date today, uint64_t sequence, const LiveLog& log,
                   const std::vector<size_t>& late, ArchiveReport& report) {
  std::vector<size_t> keep = posts_to_keep(log, today, late);
  std::string next = join_lines(log, keep);
  report.kept_in_current = keep.size();
  if (next != log.content) {
    if (Status st = ensure_sequence(data_dir, sequence, report); !st) return st;
    if (Status st = replace_current(data_dir, log, next); !st) return st;
    report.removed_from_current = log.posts.size() - keep.size();
  }
  if (!log.exists && keep.empty()) return Status::ok();  // no live log: nothing to name
  // Not fatal: without it the next open numbers back from `sequence`,
  // which was made durable above before anything left current.dat.
  if (Status st = fileio::write_current_base(data_dir / kBaseName, data_dir / kCurrentName,
                                             sequence - keep.size(), Sync::yes);
      !st)
    report.notes.push_back(st.message());
  return Status::ok();
}

// Step 5. Failures here lose nothing, so they are notes, not errors.
void link_open_days(const fs::path& data_dir, Date today, ArchiveReport& report) {
  for (Date day : {today, next_day(today)}) {
    fs::path path = fileio::day_file(data_dir, day);
    Entry kind = fileio::entry_kind(path);
    if (kind == Entry::symlink && fileio::link_target(path) == fileio::kCurrentLinkTarget) continue;
    if (kind != Entry::missing && kind != Entry::symlink) {
      report.notes.push_back(path.string() + " is not a link; left as it is (posts of " +
                             format_date_path(day) + " stay in current.dat)");
      continue;
    }
    if (Status st = fileio::make_symlink(path, fileio::kCurrentLinkTarget); !st) {
      report.notes.push_back(st.message());
      continue;
    }
    // Not checked: a link lost in a crash only points at current.dat, and
    // every archive run makes it again.
    fileio::sync_directory(path.parent_path()).ignore();
    report.notes.push_back("linked " + format_date_path(day) + ".dat to current.dat" +
                           (kind == Entry::symlink ? " (the link pointed elsewhere)" : ""));
  }
}

std::optional<int> two_digits(std::string_view s) {
  if (s.size() != 2 || s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9') return std::nullopt;
  return (s[0] - '0') * 10 + (s[1] - '0');
}

// Days with a real DD.dat file in data/YYYY/MM, ascending.
std::vector<Date> real_day_files(const fs::path& data_dir, int year, int month) {
  std::vector<Date> days;
  fs::path dir = fileio::day_file(data_dir, Date{year, month, 1}).parent_path();
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (name.size() != 6 || name.substr(2) != ".dat") continue;
    auto day = two_digits(std::string_view(name).substr(0, 2));
    if (!day || !is_valid_date(Date{year, month, *day})) continue;
    if (fileio::entry_kind(it->path()) == Entry::regular) days.push_back(Date{year, month, *day});
  }
  std::sort(days.begin(), days.end());
  return days;
}

std::vector<Post> live_posts(const fs::path& data_dir) {
  auto content = read_file(data_dir / kCurrentName);
  return content ? parse_log(*content).posts : std::vector<Post>{};
}

// A real day file's posts, with those of the day that reached current.dat
// after it was written (see the top of this file), in time order.
std::vector<Post> with_late_posts(const fs::path& data_dir, Date day, std::vector<Post> posts) {
  std::vector<Post> late = missing_from(posts, posts_of_day(live_posts(data_dir), day));
  if (late.empty()) return posts;
  posts.insert(posts.end(), late.begin(), late.end());
  std::stable_sort(posts.begin(), posts.end(), [](const Post& a, const Post& b) {
    return std::tie(a.sec, a.usec) < std::tie(b.sec, b.usec);
  });
  return posts;
}

}  // namespace

Result<ArchiveReport> archive_locked(const fs::path& data_dir, Date today, uint64_t sequence_floor,
                                     uint64_t* sequence) {
  if (!is_valid_date(today)) return Status(Errc::invalid, "not a date: " + format_date_path(today));
  auto log = read_live_log(data_dir);
  if (!log) return log.status();
  fileio::LiveNumbering numbering = fileio::live_numbering(data_dir, log->posts.size());
  const uint64_t room_sequence =
      numbering.base_recorded ? numbering.sequence : std::max(numbering.sequence, sequence_floor);
  if (sequence) *sequence = room_sequence;
  ArchiveReport report;
  for (const BadLine& bad : log->bad)
    report.notes.push_back((data_dir / kCurrentName).string() + ":" + std::to_string(bad.line_number) +
                           ": unreadable line skipped (" + bad.reason + ")");
  std::vector<size_t> late;
  if (Status st = archive_days(data_dir, today, *log, report, late); !st) return st;
  if (Status st = cut_current(data_dir, today, room_sequence, *log, late, report); !st) return st;
  link_open_days(data_dir, today, report);
  return report;
}

std::vector<Post> posts_of_day(std::vector<Post> posts, Date day) {
  std::erase_if(posts, [&](const Post& p) { return fileio::day_of(p.sec) != day; });
  return posts;
}

uint64_t count_posts_of_day(std::string_view content, Date day) {
  return posts_of_day(parse_log(content).posts, day).size();
}

std::optional<uint64_t> archived_day_count(const fs::path& data_dir, Date day) {
  if (auto n = fileio::read_number_file(fileio::count_file(data_dir, day))) return static_cast<uint64_t>(*n);
  auto content = read_file(fileio::day_file(data_dir, day));
  if (!content) return std::nullopt;
  return count_posts_of_day(*content, day);
}

Result<std::vector<Post>> read_archived_day(const fs::path& data_dir, Date day) {
  fs::path path = fileio::day_file(data_dir, day);
  for (int attempt = 0;; ++attempt) {
    Entry kind = fileio::entry_kind(path);
    if (kind == Entry::regular) {
      auto content = read_file(path);
      if (content) return with_late_posts(data_dir, day, posts_of_day(parse_log(*content).posts, day));
      if (content.status().code() == Errc::not_found && attempt == 0) continue;  // replaced meanwhile
      return Status(Errc::io, content.status().message());
    }
    std::vector<Post> posts = posts_of_day(live_posts(data_dir), day);
    // The archiver may have moved the day out between the two looks.
    if (attempt == 0 && fileio::entry_kind(path) == Entry::regular) continue;
    if (posts.empty() && kind != Entry::symlink)
      return Status(Errc::not_found, "no archive for " + format_date_path(day));
    return posts;
  }
}

std::vector<DayCount> archived_days_in_month(const fs::path& data_dir, int year, int month) {
  if (month < 1 || month > 12) return {};
  std::map<Date, uint64_t> counts;
  std::set<Date> archived;
  for (Date d : real_day_files(data_dir, year, month)) {
    archived.insert(d);
    if (auto n = archived_day_count(data_dir, d)) counts[d] = *n;
  }
  for (const Post& p : live_posts(data_dir)) {
    Date d = fileio::day_of(p.sec);
    if (d.year == year && d.month == month && !archived.contains(d)) ++counts[d];
  }
  std::vector<DayCount> days;
  for (auto [d, n] : counts)
    if (n > 0) days.push_back(DayCount{d, n});
  return days;
}

std::vector<std::pair<int, int>> archived_months(const fs::path& data_dir) {
  std::set<std::pair<int, int>> months;
  std::error_code ec;
  for (fs::directory_iterator y(data_dir, ec), end; !ec && y != end; y.increment(ec)) {
    std::string name = y->path().filename().string();
    auto year = name.size() == 4 ? parse_int(name) : std::nullopt;
    if (!year || !is_valid_date(Date{static_cast<int>(*year), 1, 1})) continue;
    for (int month = 1; month <= 12; ++month) {
      for (Date d : real_day_files(data_dir, static_cast<int>(*year), month)) {
        auto n = archived_day_count(data_dir, d);
        if (n && *n > 0) {
          months.emplace(d.year, d.month);
          break;
        }
      }
    }
  }
  for (const Post& p : live_posts(data_dir)) {
    Date d = fileio::day_of(p.sec);
    months.emplace(d.year, d.month);
  }
  return {months.begin(), months.end()};
}

std::vector<Date> archived_day_files(const fs::path& data_dir) {
  std::vector<Date> days;
  std::error_code ec;
  for (fs::directory_iterator y(data_dir, ec), end; !ec && y != end; y.increment(ec)) {
    std::string name = y->path().filename().string();
    auto year = name.size() == 4 ? parse_int(name) : std::nullopt;
    if (!year || !is_valid_date(Date{static_cast<int>(*year), 1, 1})) continue;
    for (int month = 1; month <= 12; ++month)
      for (Date d : real_day_files(data_dir, static_cast<int>(*year), month)) days.push_back(d);
  }
  std::sort(days.begin(), days.end());
  return days;
}

std::vector<std::string> describe_archive(const ArchiveReport& report) {
  std::string summary;
  if (report.written.empty()) {
    summary = "nothing to archive";
  } else {
    summary = "archived " + std::to_string(report.written.size()) +
              (report.written.size() == 1 ? " day: " : " days: ");
    for (size_t i = 0; i < report.written.size() && i < kDaysListedInSummary; ++i) {
      const DayCount& d = report.written[i];
      summary += (i ? ", " : "") + format_date_path(d.date) + " (" + std::to_string(d.posts) +
                 (d.posts == 1 ? " post)" : " posts)");
    }
    if (report.written.size() > kDaysListedInSummary)
      summary += ", and " + std::to_string(report.written.size() - kDaysListedInSummary) + " more";
  }
  summary += "; current.dat keeps " + std::to_string(report.kept_in_current) +
             (report.kept_in_current == 1 ? " post" : " posts");
  if (report.removed_from_current > 0)
    summary += ", " + std::to_string(report.removed_from_current) + " moved out";
  std::vector<std::string> lines{summary};
  lines.insert(lines.end(), report.notes.begin(), report.notes.end());
  return lines;
}

}  // namespace chaton
