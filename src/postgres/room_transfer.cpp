// Moving a room in and out of PostgreSQL: see room_transfer.h and
// docs/SCALING.md, "Moving a room in and out".
#include "postgres/room_transfer.h"

#include "postgres/pg_search.h"
#include "postgres/post_rows.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <system_error>
#include <tuple>

#include "messages/line_codec.h"
#include "store/file_archive.h"
#include "store/file_io.h"

namespace chaton::postgres {

namespace fs = std::filesystem;

namespace {

// A transaction on `db` that rolls back unless committed.
class Transaction {
 public:
  explicit Transaction(PgConnection& db) : db_(db) {}
  ~Transaction() {
    if (open_) (void)db_.exec("ROLLBACK");
  }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  [[nodiscard]] Status begin(std::string_view how = "BEGIN") {
    auto r = db_.exec(how);
    if (!r) return r.status();
    open_ = true;
    return Status::ok();
  }
  [[nodiscard]] Status commit() {
    open_ = false;
    auto r = db_.exec("COMMIT");
    return r ? Status::ok() : r.status();
  }

 private:
  PgConnection& db_;
  bool open_ = false;
};

// The room lock of a data directory (docs/STORAGE.md "Locking"), held
// while this object lives. Creates DATADIR/data and the lock file.
struct RoomLock {
  fileio::Fd fd;
  std::optional<fileio::LockGuard> guard;

  Status take(const fs::path& room_dir) {
    std::error_code ec;
    fs::create_directories(room_dir / "data", ec);
    if (ec) return Status(Errc::io, "cannot create " + (room_dir / "data").string() + ": " + ec.message());
    if (Status st = fileio::open_lock_file(room_dir / "lock", fd); !st) return st;
    guard.emplace(fd.get());
    if (!guard->locked()) return Status(Errc::io, "cannot lock " + (room_dir / "lock").string());
    return Status::ok();
  }
};

// --- import

// What makes a post the same post in two files (as the archiver decides).
using PostKey = std::tuple<int64_t, int64_t, std::string, std::string>;
PostKey key_of(const Post& p) { return {p.sec, p.usec, p.nick, p.text}; }

// The content the line writer gives for `posts`.
std::string encode_all(const std::vector<Post>& posts) {
  std::string out;
  for (const Post& p : posts) {
    out += encode_line(p);
    out.push_back('\n');
  }
  return out;
}

// Notes for a file read: its unreadable lines, and whether an export can
// give it back byte for byte.
void note_file(const fs::path& path, std::string_view content, const ParsedLog& parsed,
               std::vector<std::string>& notes) {
  for (const BadLine& bad : parsed.bad)
    notes.push_back(path.string() + ":" + std::to_string(bad.line_number) + ": unreadable line skipped (" +
                    bad.reason + ")");
  if (encode_all(parsed.posts) != content)
    notes.push_back(path.string() +
                    ": not every line is as Chaton writes it; an export writes its posts in Chaton's form");
}

// Inserts posts (seq filled in) in statements of kImportBatchPosts.
Status insert_posts(PgConnection& db, int64_t room, const std::vector<Post>& posts) {
  for (size_t from = 0; from < posts.size(); from += kImportBatchPosts) {
    size_t to = std::min(posts.size(), from + kImportBatchPosts);
    std::vector<PgParam> seqs, days, secs, usecs, nicks, texts, ips, folds;
    for (size_t i = from; i < to; ++i) {
      const Post& p = posts[i];
      seqs.emplace_back(num(p.seq));
      days.emplace_back(num(day_number(fileio::day_of(p.sec))));
      secs.emplace_back(num(p.sec));
      usecs.emplace_back(num(p.usec));
      nicks.emplace_back(p.nick);
      texts.emplace_back(p.text);
      ips.emplace_back(p.ip);
      folds.emplace_back(folded_for_search(p.nick, p.text));  // as the store's append does
    }
    auto r = db.exec(
        "INSERT INTO chaton_posts (room_id, seq, day, sec, usec, nick, text, ip, folded, fold_version) "
        "SELECT $1::bigint, t.seq, " +
            std::string(kEpoch) +
            " + t.day, t.sec, t.usec, t.nick, t.text, t.ip, t.folded, $10::smallint "
            "FROM unnest($2::bigint[], $3::integer[], $4::bigint[], $5::integer[], $6::text[], $7::text[], "
            "$8::text[], $9::text[]) AS t(seq, day, sec, usec, nick, text, ip, folded)",
        {num(room), text_array(seqs), text_array(days), text_array(secs), text_array(usecs),
         text_array(nicks), text_array(texts), text_array(ips), text_array(folds),
         num(int64_t{kFoldVersion})});
    if (!r) return r.status();
  }
  return Status::ok();
}

// The room's id, registering it when it is new, locked for this transaction.
Result<int64_t> lock_room(PgConnection& db, std::string_view slug) {
  auto ins = db.exec("INSERT INTO chaton_rooms (slug) VALUES ($1) ON CONFLICT (slug) DO NOTHING",
                     {std::string(slug)});
  if (!ins) return ins.status();
  auto r = db.exec("SELECT id FROM chaton_rooms WHERE slug = $1 FOR UPDATE", {std::string(slug)});
  if (!r) return r.status();
  if (r->rows() != 1) return Status(Errc::io, "room " + std::string(slug) + " could not be registered");
  return r->int64(0, 0);
}

}  // namespace

Result<ImportReport> import_room(PgConnection& db, std::string_view slug, const fs::path& room_dir) {
  const fs::path data_dir = room_dir / "data";
  if (!fs::is_directory(data_dir))
    return Status(Errc::not_found, data_dir.string() + " is not a room's data directory");
  RoomLock lock;
  if (Status st = lock.take(room_dir); !st) return st;

  ImportReport report;
  // The archived days in date order, each post once.
  std::vector<Post> archived;
  std::set<PostKey> seen;
  for (Date day : archived_day_files(data_dir)) {
    fs::path path = fileio::day_file(data_dir, day);
    auto content = read_file(path);
    if (!content) return Status(Errc::io, content.status().message());
    ++report.day_files;
    ParsedLog parsed = parse_log(*content);
    note_file(path, *content, parsed, report.notes);
    for (Post& p : parsed.posts)
      if (seen.insert(key_of(p)).second) archived.push_back(std::move(p));
  }
  // The live log, numbered as the file store numbers it.
  auto live = read_live_log(data_dir);
  if (!live) return live.status();
  if (live->exists) {
    ParsedLog parsed;
    parsed.posts = live->posts;
    parsed.bad = live->bad;
    note_file(data_dir / fileio::kCurrentName, live->content, parsed, report.notes);
  }
  fileio::LiveNumbering numbering = fileio::live_numbering(data_dir, live->posts.size(), &report.notes);
  std::set<PostKey> live_keys;
  for (const Post& p : live->posts) live_keys.insert(key_of(p));
  std::erase_if(archived, [&](const Post& p) {
    bool both = live_keys.contains(key_of(p));
    report.kept_in_both += both;
    return both;
  });
  report.live_posts = live->posts.size();

  uint64_t base = numbering.base;
  if (archived.size() > base) {
    report.notes.push_back("data/sequence (with current.base) numbers the live log from " + num(base) +
                           ", fewer than the " + num(static_cast<uint64_t>(archived.size())) +
                           " archived posts before it: every post is numbered from 1");
    base = archived.size();
  }
  std::vector<Post> posts;
  posts.reserve(archived.size() + live->posts.size());
  uint64_t seq = base - archived.size();
  for (Post& p : archived) {
    p.seq = ++seq;
    posts.push_back(std::move(p));
  }
  for (const Post& p : live->posts) {
    posts.push_back(p);
    posts.back().seq = ++seq;
  }
  report.posts = posts.size();
  report.sequence = seq;
  if (auto lp = fileio::read_number_file(data_dir / fileio::kLastPostName))
    report.last_post = *lp;
  else if (!live->posts.empty())
    report.last_post = live->posts.back().sec;
  else if (!archived.empty())
    report.last_post = posts.back().sec;

  Transaction tx(db);
  if (Status st = tx.begin(); !st) return st;
  auto room = lock_room(db, slug);
  if (!room) return room.status();
  auto existing = db.exec("SELECT count(*) FROM chaton_posts WHERE room_id = $1", {num(*room)});
  if (!existing) return existing.status();
  if (int64_t n = existing->int64(0, 0); n > 0)
    return Status(Errc::invalid, "room " + std::string(slug) + " already has " + num(n) +
                                     " posts in the database at " + db.where() +
                                     "; an import only fills an empty room");
  if (Status st = insert_posts(db, *room, posts); !st) return st;
  if (auto r = db.exec("DELETE FROM chaton_days WHERE room_id = $1", {num(*room)}); !r) return r.status();
  if (auto r = db.exec("INSERT INTO chaton_days (room_id, day, posts) SELECT room_id, day, count(*) "
                       "FROM chaton_posts WHERE room_id = $1 GROUP BY room_id, day",
                       {num(*room)});
      !r)
    return r.status();
  if (auto r = db.exec("UPDATE chaton_rooms SET sequence = $2, last_post = $3, moderated = moderated + 1 "
                       "WHERE id = $1",
                       {num(*room), num(report.sequence), num(report.last_post)});
      !r)
    return r.status();
  // Nodes already serving the room reload it (docs/SCALING.md, "Moderation").
  if (auto r = db.exec("SELECT pg_notify('chaton', $1)", {std::string(slug)}); !r) return r.status();
  if (Status st = tx.commit(); !st) return st;
  return report;
}

// --- export

namespace {

// Writes `content` to `path` unless it already holds exactly that (a real
// file). True when it wrote.
Result<bool> write_if_changed(const fs::path& path, const std::string& content) {
  if (fileio::entry_kind(path) == fileio::Entry::regular) {
    auto old = read_file(path);
    if (old && *old == content) return false;
  }
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  if (ec) return Status(Errc::io, "cannot create " + path.parent_path().string() + ": " + ec.message());
  if (Status st = fileio::replace_file(path, content, fileio::Sync::yes); !st) return st;
  return true;
}

// Whether the directory has posts, and whether they are an earlier copy of
// this room: its newest live post is the database's post of the same seq.
Status check_overwrite(PgConnection& db, int64_t room, std::string_view slug, const fs::path& room_dir,
                       Overwrite overwrite) {
  const fs::path data_dir = room_dir / "data";
  auto live = read_live_log(data_dir);
  if (!live) return live.status();
  bool has_posts = !live->posts.empty() || !archived_day_files(data_dir).empty();
  if (!has_posts || overwrite == Overwrite::always) return Status::ok();
  const std::string refusal = data_dir.string() + " already holds posts";
  if (overwrite == Overwrite::earlier_copy && !live->posts.empty()) {
    uint64_t newest = fileio::live_numbering(data_dir, live->posts.size()).sequence;
    auto r =
        db.exec("SELECT " + std::string(kPostColumns) + " FROM chaton_posts WHERE room_id = $1 AND seq = $2",
                {num(room), num(newest)});
    if (!r) return r.status();
    std::vector<Post> same = posts_of(*r, true);
    Post mine = live->posts.back();
    mine.seq = newest;
    if (same.size() == 1 && same[0] == mine) return Status::ok();
    return Status(Errc::invalid, refusal + " that are not an export of room " + std::string(slug) +
                                     " (a file-store room not imported? `chaton db import` copies it "
                                     "into the database); nothing was written");
  }
  return Status(Errc::invalid, refusal + "; export into an empty directory, or replace them with --force");
}

// The posts of days [from, to) by day, each day's in seq order.
Result<std::map<Date, std::vector<Post>>> posts_by_day(PgConnection& db, int64_t room, Date from, Date to) {
  auto r = db.exec("SELECT " + std::string(kPostColumns) +
                       " FROM chaton_posts WHERE room_id = $1 AND day >= " + std::string(kEpoch) +
                       " + $2::integer AND day < " + std::string(kEpoch) + " + $3::integer ORDER BY seq",
                   {num(room), num(day_number(from)), num(day_number(to))});
  if (!r) return r.status();
  std::map<Date, std::vector<Post>> out;
  for (Post& p : posts_of(*r, true)) out[fileio::day_of(p.sec)].push_back(std::move(p));
  return out;
}

Date first_of_next_month(Date d) {
  return d.month == 12 ? Date{d.year + 1, 1, 1} : Date{d.year, d.month + 1, 1};
}

// Step 1: the day files, a month's posts at a time.
Status export_days(PgConnection& db, int64_t room, const fs::path& data_dir, Date today,
                   ExportReport& report) {
  auto first = db.exec("SELECT min(day) - " + std::string(kEpoch) + " FROM chaton_posts WHERE room_id = $1",
                       {num(room)});
  if (!first) return first.status();
  if (first->is_null(0, 0)) return Status::ok();
  Date day = civil_from_days(first->int64(0, 0));
  while (day < today) {
    Date until = std::min(first_of_next_month(day), today);
    auto month = posts_by_day(db, room, day, until);
    if (!month) return month.status();
    for (; day < until; day = next_day(day)) {
      auto it = month->find(day);
      const std::vector<Post> none;
      const std::vector<Post>& posts = it == month->end() ? none : it->second;
      auto wrote_dat = write_if_changed(fileio::day_file(data_dir, day), encode_all(posts));
      if (!wrote_dat) return wrote_dat.status();
      auto wrote_cnt = write_if_changed(fileio::count_file(data_dir, day), std::to_string(posts.size()));
      if (!wrote_cnt) return wrote_cnt.status();
      ++report.days;
      report.days_written += *wrote_dat || *wrote_cnt;
      report.posts_archived += posts.size();
    }
  }
  return Status::ok();
}

// Step 2: current.dat and its bookkeeping, and the day links.
Status export_live(PgConnection& db, int64_t room, const fs::path& data_dir, Date today,
                   ExportReport& report) {
  // Today's and later posts, and the last kMinPostsKept before today.
  auto r =
      db.exec("SELECT " + std::string(kPostColumns) +
                  " FROM chaton_posts WHERE room_id = $1 AND (day >= " + std::string(kEpoch) +
                  " + $2::integer OR seq >= (SELECT coalesce(min(seq), 0) FROM (SELECT seq FROM "
                  "chaton_posts WHERE room_id = $1 AND day < " +
                  std::string(kEpoch) + " + $2::integer ORDER BY seq DESC LIMIT $3) AS last)) ORDER BY seq",
              {num(room), num(day_number(today)), num(static_cast<uint64_t>(kMinPostsKept))});
  if (!r) return r.status();
  std::vector<Post> live = posts_of(*r, true);
  report.kept_in_current = live.size();
  if (!live.empty()) report.sequence = std::max(report.sequence, live.back().seq);
  report.sequence = std::max<uint64_t>(report.sequence, live.size());
  const fs::path current = data_dir / fileio::kCurrentName;
  if (auto w = write_if_changed(current, encode_all(live)); !w) return w.status();
  if (Status st = fileio::write_current_base(data_dir / fileio::kBaseName, current,
                                             report.sequence - live.size(), fileio::Sync::yes);
      !st)
    return st;
  if (auto w = write_if_changed(data_dir / fileio::kSequenceName, std::to_string(report.sequence)); !w)
    return w.status();
  if (auto w = write_if_changed(data_dir / fileio::kLastPostName, std::to_string(report.last_post)); !w)
    return w.status();
  for (Date day : {today, next_day(today)}) {
    fs::path path = fileio::day_file(data_dir, day);
    fileio::Entry kind = fileio::entry_kind(path);
    if (kind == fileio::Entry::symlink && fileio::link_target(path) == fileio::kCurrentLinkTarget) continue;
    if (kind != fileio::Entry::missing && kind != fileio::Entry::symlink) {
      report.notes.push_back(path.string() + " is not a link; left as it is");
      continue;
    }
    if (Status st = fileio::make_symlink(path, fileio::kCurrentLinkTarget); !st)
      report.notes.push_back(st.message());
  }
  return Status::ok();
}

}  // namespace

Result<ExportReport> export_room(PgConnection& db, std::string_view slug, const fs::path& room_dir,
                                 Date today, Overwrite overwrite) {
  if (!is_valid_date(today)) return Status(Errc::invalid, "not a date: " + format_date_path(today));
  // One snapshot of the room for every statement.
  Transaction tx(db);
  if (Status st = tx.begin("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"); !st) return st;
  auto room =
      db.exec("SELECT id, sequence, last_post FROM chaton_rooms WHERE slug = $1", {std::string(slug)});
  if (!room) return room.status();
  if (room->rows() != 1)
    return Status(Errc::not_found, "no room " + std::string(slug) + " in the database at " + db.where());
  const int64_t id = room->int64(0, 0);
  ExportReport report;
  report.sequence = static_cast<uint64_t>(room->int64(0, 1));
  report.last_post = room->int64(0, 2);

  RoomLock lock;
  if (Status st = lock.take(room_dir); !st) return st;
  if (Status st = check_overwrite(db, id, slug, room_dir, overwrite); !st) return st;
  const fs::path data_dir = room_dir / "data";
  if (Status st = export_days(db, id, data_dir, today, report); !st) return st;
  if (Status st = export_live(db, id, data_dir, today, report); !st) return st;
  if (Status st = tx.commit(); !st) return st;
  return report;
}

std::vector<std::string> describe_import(const ImportReport& report) {
  std::vector<std::string> lines{"imported " + num(report.posts) + (report.posts == 1 ? " post" : " posts") +
                                 " (" + num(report.day_files) + " day files, " + num(report.live_posts) +
                                 " posts in current.dat, " + num(report.kept_in_both) +
                                 " of them also in their day file); sequence " + num(report.sequence) +
                                 ", last post " + num(report.last_post)};
  lines.insert(lines.end(), report.notes.begin(), report.notes.end());
  return lines;
}

std::vector<std::string> describe_export(const ExportReport& report) {
  std::vector<std::string> lines{
      "exported " + num(report.days) + (report.days == 1 ? " day" : " days") + " (" +
      num(report.days_written) + " written, " + num(report.posts_archived) + " posts); current.dat keeps " +
      num(static_cast<uint64_t>(report.kept_in_current)) +
      (report.kept_in_current == 1 ? " post" : " posts") + "; sequence " + num(report.sequence)};
  lines.insert(lines.end(), report.notes.begin(), report.notes.end());
  return lines;
}

}  // namespace chaton::postgres
