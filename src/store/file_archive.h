// The archive side of the file store (docs/STORAGE.md,
// "Archiving"): splitting the live log into YYYY/MM/DD.dat day files with
// their DD.cnt counts, and reading the days back for the archive pages.
//
// FileStore calls these with the room lock held where they write
// (archive_locked); the readers take no lock and may run beside appends and
// archiving. data_check.cpp shares the day counting, so a .cnt is judged by
// the same rule that wrote it.
//
// Free functions over a DATADIR/data directory; thread-safe as far as the
// file system is.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "messages/line_codec.h"
#include "messages/post.h"
#include "store/file_io.h"
#include "store/store.h"
#include "util/civil_time.h"
#include "util/result.h"

namespace chaton {

// The live log as read: each readable post with its line as it was written,
// so archiving moves lines without re-encoding them.
struct LiveLog {
  bool exists = false;
  mode_t mode = fileio::kFileMode;
  std::string content;
  std::vector<Post> posts;
  std::vector<std::string> lines;  // lines[i] is the line of posts[i], without "\n"
  std::vector<BadLine> bad;
};

// Reads data_dir/current.dat (a missing file is an empty log).
Result<LiveLog> read_live_log(const std::filesystem::path& data_dir);

// Replaces data_dir/current.dat by `content`: written to current.dat.tmp
// with the old file's mode and synced, the old file hard-linked to
// current.dat.bak, renamed into place (the live path is never missing),
// the directory synced. The caller holds the room lock. Archiving and
// moderation both rewrite the live log this way.
Status replace_current(const std::filesystem::path& data_dir, const LiveLog& log, std::string_view content);

// Removes data_dir/current.dat.bak (and syncs the directory): moderation
// does, so that a removed post's text does not stay on the disk.
Status drop_current_backup(const std::filesystem::path& data_dir);

// Archives every UTC day before `today` out of data_dir/current.dat.
// The caller holds the room lock. The live log is numbered by
// fileio::live_numbering, the rule open() uses; `sequence_floor` (the
// room's sequence as the caller knows it) only counts when current.base
// does not apply. data/sequence is raised to the room's sequence before
// current.dat is cut, and current.base is written for the file left, so
// no post's position changes on the next open. `sequence` (when given)
// is set to the room's sequence.
Result<ArchiveReport> archive_locked(const std::filesystem::path& data_dir, Date today,
                                     uint64_t sequence_floor, uint64_t* sequence = nullptr);

// The posts of `posts` that fall on `day` (UTC), in order.
std::vector<Post> posts_of_day(std::vector<Post> posts, Date day);

// The number of readable posts in a log's content that fall on `day`.
uint64_t count_posts_of_day(std::string_view content, Date day);

// The number of posts a real day file holds for its day: its .cnt when that
// is readable, else counted from the .dat. nullopt when the .dat cannot be
// read.
std::optional<uint64_t> archived_day_count(const std::filesystem::path& data_dir, Date day);

// Readers for Store::read_day, days_in_month and months.
Result<std::vector<Post>> read_archived_day(const std::filesystem::path& data_dir, Date day);
std::vector<DayCount> archived_days_in_month(const std::filesystem::path& data_dir, int year, int month);
std::vector<std::pair<int, int>> archived_months(const std::filesystem::path& data_dir);

// Every day that has a real DD.dat file (not a link), ascending, whatever
// its count: the archived days as they are on disk (moving a room into
// PostgreSQL reads them, src/postgres/room_transfer.h).
std::vector<Date> archived_day_files(const std::filesystem::path& data_dir);

// A report as log lines: one summary line, then one line per note.
std::vector<std::string> describe_archive(const ArchiveReport& report);

}  // namespace chaton
