// Checking and repairing a room's data directory: see data_check.h.
// Counts are judged by the archiver's own rule (store/file_archive.h), so a
// .cnt the archiver wrote is never reported.
#include "store/data_check.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <set>
#include <system_error>

#include "messages/line_codec.h"
#include "store/file_archive.h"
#include "store/file_io.h"
#include "util/text.h"

namespace chaton::datacheck {

namespace fs = std::filesystem;
using fileio::Entry;
using fileio::Fd;
using fileio::io_message;

namespace {

constexpr std::string_view kDataName = "data";
using fileio::kCurrentName;
using fileio::kSequenceName;
constexpr std::string_view kLockName = "lock";

std::string plural(uint64_t n, std::string_view one, std::string_view many) {
  return std::to_string(n) + " " + std::string(n == 1 ? one : many);
}

Problem problem(const fs::path& file, size_t line, std::string what, Fix fix = Fix::none,
                uint64_t value = 0) {
  return Problem{file.string(), line, std::move(what), fix != Fix::none, fix, value};
}

void check_lines(const fs::path& file, const ParsedLog& parsed, std::vector<Problem>& out) {
  for (const BadLine& bad : parsed.bad)
    out.push_back(problem(file, bad.line_number, "unreadable line (" + bad.reason + ")"));
}

// current.dat: unreadable lines and a torn tail. Returns its post count.
uint64_t check_current(const fs::path& data_dir, std::vector<Problem>& out) {
  fs::path path = data_dir / kCurrentName;
  auto content = read_file(path);
  if (!content) {
    if (content.status().code() != Errc::not_found)
      out.push_back(problem(path, 0, content.status().message()));
    return 0;
  }
  ParsedLog parsed = parse_log(*content);
  check_lines(path, parsed, out);
  if (parsed.torn_tail)
    out.push_back(problem(path, static_cast<size_t>(std::count(content->begin(), content->end(), '\n')) + 1,
                          "the last line has no newline (a write was interrupted)", Fix::add_newline));
  return parsed.posts.size();
}

// `sequence` must be at least what the live log's numbering (the rule the
// server opens it with, fileio::live_numbering) gives its newest post.
void check_sequence(const fs::path& data_dir, uint64_t posts, std::vector<Problem>& out) {
  fs::path path = data_dir / kSequenceName;
  auto content = read_file(path);
  const uint64_t target = fileio::live_numbering(data_dir, posts).sequence;
  std::string in_current = "current.dat has " + plural(posts, "post", "posts");
  if (!content) {
    if (content.status().code() != Errc::not_found)
      out.push_back(problem(path, 0, content.status().message()));
    else if (posts > 0)
      out.push_back(problem(path, 0, "missing (" + in_current + ")", Fix::raise_sequence, target));
    return;
  }
  auto value = fileio::parse_number(*content);
  if (!value)
    out.push_back(problem(path, 0, "not a number (" + in_current + ")", Fix::raise_sequence, target));
  else if (static_cast<uint64_t>(*value) < posts)
    out.push_back(problem(path, 0,
                          "says " + std::to_string(*value) + ", fewer than the posts in current.dat (" +
                              std::to_string(posts) + ")",
                          Fix::raise_sequence, target));
  else if (static_cast<uint64_t>(*value) < target)
    out.push_back(problem(path, 0,
                          "says " + std::to_string(*value) + ", behind current.dat, whose newest post is " +
                              std::to_string(target) + " by current.base",
                          Fix::raise_sequence, target));
}

// One real DD.dat and its DD.cnt.
void check_day_file(const fs::path& data_dir, Date day, std::vector<Problem>& out) {
  fs::path dat = fileio::day_file(data_dir, day);
  fs::path cnt = fileio::count_file(data_dir, day);
  auto content = read_file(dat);
  if (!content) {
    out.push_back(problem(dat, 0, content.status().message()));
    return;
  }
  ParsedLog parsed = parse_log(*content);
  check_lines(dat, parsed, out);
  uint64_t count = posts_of_day(parsed.posts, day).size();
  if (uint64_t foreign = parsed.posts.size() - count; foreign > 0)
    out.push_back(problem(dat, 0,
                          plural(foreign, "post is", "posts are") + " not dated " + format_date_path(day) +
                              " (they are not shown on that day)"));
  std::string has = "the day file has " + plural(count, "post", "posts");
  auto cnt_content = read_file(cnt);
  if (!cnt_content) {
    out.push_back(problem(cnt, 0,
                          cnt_content.status().code() == Errc::not_found ? "missing (" + has + ")"
                                                                         : cnt_content.status().message(),
                          Fix::rewrite_count, count));
    return;
  }
  auto value = fileio::parse_number(*cnt_content);
  if (!value)
    out.push_back(problem(cnt, 0, "not a number (" + has + ")", Fix::rewrite_count, count));
  else if (static_cast<uint64_t>(*value) != count)
    out.push_back(
        problem(cnt, 0, "says " + std::to_string(*value) + ", but " + has, Fix::rewrite_count, count));
}

bool is_open_day(Date day, Date today) { return day == today || day == next_day(today); }

// A name "DD.ext" in data/YYYY/MM: the day, when it is one.
std::optional<Date> day_named(int year, int month, std::string_view name, std::string_view ext) {
  if (name.size() != 2 + ext.size() || name.substr(2) != ext) return std::nullopt;
  auto d = parse_int(name.substr(0, 2));
  if (!d || name[0] < '0' || name[0] > '9') return std::nullopt;
  Date day{year, month, static_cast<int>(*d)};
  if (!is_valid_date(day)) return std::nullopt;
  return day;
}

std::vector<fs::path> sorted_entries(const fs::path& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) out.push_back(it->path());
  std::sort(out.begin(), out.end());
  return out;
}

// Every file in one month directory.
void check_month(const fs::path& data_dir, const fs::path& dir, int year, int month, Date today,
                 std::vector<Problem>& out) {
  for (const fs::path& path : sorted_entries(dir)) {
    std::string name = path.filename().string();
    if (auto day = day_named(year, month, name, ".dat")) {
      Entry kind = fileio::entry_kind(path);
      if (kind == Entry::regular) {
        check_day_file(data_dir, *day, out);
      } else if (kind == Entry::symlink && !is_open_day(*day, today)) {
        std::string target = fileio::link_target(path);
        if (target != fileio::kCurrentLinkTarget)
          out.push_back(problem(
              path, 0, "a link to " + target + ", not to " + std::string(fileio::kCurrentLinkTarget)));
      }
    } else if (auto cday = day_named(year, month, name, ".cnt")) {
      if (fileio::entry_kind(fileio::day_file(data_dir, *cday)) == Entry::missing)
        out.push_back(problem(path, 0, "a count without its day file " + format_date_path(*cday) + ".dat"));
    }
  }
}

// data/YYYY/MM/: every archived day.
void check_archives(const fs::path& data_dir, Date today, std::vector<Problem>& out) {
  for (const fs::path& ydir : sorted_entries(data_dir)) {
    std::string yname = ydir.filename().string();
    auto year = yname.size() == 4 ? parse_int(yname) : std::nullopt;
    if (!year || *year < 1970 || !fs::is_directory(ydir)) continue;
    for (const fs::path& mdir : sorted_entries(ydir)) {
      std::string mname = mdir.filename().string();
      auto month = mname.size() == 2 ? parse_int(mname) : std::nullopt;
      if (!month || *month < 1 || *month > 12 || !fs::is_directory(mdir)) continue;
      check_month(data_dir, mdir, static_cast<int>(*year), static_cast<int>(*month), today, out);
    }
  }
}

// Today's and tomorrow's day files must be links to current.dat.
void check_links(const fs::path& data_dir, Date today, std::vector<Problem>& out) {
  for (Date day : {today, next_day(today)}) {
    fs::path path = fileio::day_file(data_dir, day);
    std::string which = day == today ? "today's" : "tomorrow's";
    std::string expected = which + " day file should be a link to " + std::string(fileio::kCurrentLinkTarget);
    switch (fileio::entry_kind(path)) {
      case Entry::missing:
        out.push_back(problem(path, 0, "missing: " + expected, Fix::make_link));
        break;
      case Entry::symlink:
        if (std::string target = fileio::link_target(path); target != fileio::kCurrentLinkTarget)
          out.push_back(problem(path, 0, "a link to " + target + "; " + expected, Fix::make_link));
        break;
      case Entry::regular:
        out.push_back(
            problem(path, 0, "a real file, but " + expected + " (was it archived with a future date?)"));
        break;
      default:
        out.push_back(problem(path, 0, "not a file or link; " + expected));
        break;
    }
  }
}

Status append_newline(const fs::path& path) {
  Fd fd(fileio::open_retry(path, O_RDWR | O_APPEND | O_CLOEXEC));
  if (!fd.valid()) return Status(Errc::io, io_message("cannot open", path, errno));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return Status(Errc::io, io_message("cannot stat", path, errno));
  if (!fileio::lacks_final_newline(fd.get(), st.st_size)) return Status::ok();
  if (!fileio::write_all(fd.get(), "\n") || ::fdatasync(fd.get()) != 0)
    return Status(Errc::io, io_message("cannot append to", path, errno));
  return Status::ok();
}

Status raise_sequence(const fs::path& path, uint64_t value) {
  auto on_disk = fileio::read_number_file(path);
  if (on_disk && static_cast<uint64_t>(*on_disk) >= value) return Status::ok();
  return fileio::replace_file(path, std::to_string(value), fileio::Sync::yes);
}

Status apply(const Problem& p) {
  switch (p.fix) {
    case Fix::rewrite_count:
      return fileio::replace_file(p.file, std::to_string(p.value), fileio::Sync::yes);
    case Fix::make_link:
      return fileio::make_symlink(p.file, fileio::kCurrentLinkTarget);
    case Fix::add_newline:
      return append_newline(p.file);
    case Fix::raise_sequence:
      return raise_sequence(p.file, p.value);
    case Fix::none:
      break;
  }
  return Status::ok();
}

}  // namespace

std::string format_problem(const Problem& p) {
  std::string s = p.file;
  if (p.line > 0) s += ":" + std::to_string(p.line);
  s += ": " + p.what;
  if (p.repairable) s += " (repairable)";
  return s;
}

std::vector<Problem> check(const fs::path& datadir, Date today) {
  std::vector<Problem> out;
  fs::path data_dir = datadir / kDataName;
  std::error_code ec;
  if (!fs::is_directory(data_dir, ec)) {
    out.push_back(problem(data_dir, 0, "missing: not a Chaton data directory"));
    return out;
  }
  uint64_t posts = check_current(data_dir, out);
  check_sequence(data_dir, posts, out);
  check_archives(data_dir, today, out);
  check_links(data_dir, today, out);
  return out;
}

Result<RepairReport> repair(const fs::path& datadir, Date today) {
  std::error_code ec;
  if (!fs::is_directory(datadir / kDataName, ec))
    return Status(Errc::not_found,
                  (datadir / kDataName).string() + " is missing: not a Chaton data directory");
  Fd lock_fd;
  if (Status st = fileio::open_lock_file(datadir / kLockName, lock_fd); !st) return st;
  fileio::LockGuard lock(lock_fd.get());
  if (!lock.locked()) return Status(Errc::io, io_message("cannot lock", datadir / kLockName, errno));
  RepairReport report;
  for (const Problem& p : check(datadir, today)) {
    if (p.fix == Fix::none) continue;
    if (Status st = apply(p); st)
      report.fixed.push_back(p);
    else
      report.failures.push_back(st.message());
  }
  return report;
}

}  // namespace chaton::datacheck
