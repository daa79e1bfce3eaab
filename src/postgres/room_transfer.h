// Moving a room between the file store and PostgreSQL (docs/SCALING.md,
// "Moving a room in and out"; the commands `chaton db import` and
// `chaton db export`, and `chaton archive` on a PostgreSQL room).
//
// import_room copies every post of a file-store room (docs/STORAGE.md) into
// the database, in one transaction: the archived day files in date order,
// then the live log current.dat, each post once (the live log keeps the last
// posts of archived days too, see docs/STORAGE.md "Archiving"), with its
// nick, time, text, address and sequence number, numbered as the file
// store numbers them (docs/STORAGE.md "Sequence numbers and `pos`",
// "current.base").
//
// export_room writes a database room in the original layout: a day file and
// its count for every day before `today`, current.dat with what the file
// store's live log keeps, sequence, last-post, current.base and the day
// links, with the store module's line writer and file helpers. A room
// imported and exported again gives the same files byte for byte, except
// for lines the file store did not write in its own form (see
// docs/SCALING.md).
//
// Both take the room's lock (DATADIR/lock, docs/STORAGE.md "Locking") while
// they read or write its files. The schema must be migrated (schema.h).
//
// Thread-safety: free functions over one connection, used by one thread.
// Lifetime: nothing outlives a call.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "postgres/pg_connection.h"
#include "store/store.h"
#include "util/civil_time.h"
#include "util/result.h"

namespace chaton::postgres {

// How many posts one INSERT of an import carries.
inline constexpr size_t kImportBatchPosts = 2000;

struct ImportReport {
  uint64_t posts = 0;               // posts copied into the database
  uint64_t day_files = 0;           // archived day files read
  uint64_t live_posts = 0;          // posts of current.dat
  uint64_t kept_in_both = 0;        // posts of current.dat also in their day file, copied once
  uint64_t sequence = 0;            // the room's sequence (seq of its newest post)
  int64_t last_post = 0;            // the room's last-post time
  std::vector<std::string> notes;   // unreadable lines, files not in the writer's form, renumbering
};

// Copies the room in `room_dir` (a FileStore's DATADIR) into the database
// as room `slug`. Errc::invalid (nothing written) when the database already
// has posts for `slug`. The live log's posts keep the numbers the file
// store gives them; the posts only in day files are numbered back from the
// first of them. When data/sequence is too small for the posts found, every
// post is numbered from 1 (a note says so). The room's moderation counter
// is bumped, so a node serving the room reloads it.
[[nodiscard]] Result<ImportReport> import_room(PgConnection& db, std::string_view slug,
                                               const std::filesystem::path& room_dir);

// When export_room may write into a data directory that already has posts.
enum class Overwrite {
  never,         // refuse (Errc::invalid)
  earlier_copy,  // only when its newest post is this room's, with the same seq (an earlier export)
  always,        // --force
};

struct ExportReport {
  uint64_t days = 0;               // day files the export covers (quiet days included)
  uint64_t days_written = 0;       // of those, written now (the others were already so)
  uint64_t posts_archived = 0;     // posts in those day files
  size_t kept_in_current = 0;      // posts written to current.dat
  uint64_t sequence = 0;
  int64_t last_post = 0;
  std::vector<std::string> notes;  // for the operator
};

// Writes the database room `slug` under `room_dir` (DATADIR) in the layout
// of docs/STORAGE.md, as the file store's archiver leaves it on `today`:
// YYYY/MM/DD.dat and .cnt for every day from the room's first post to the
// day before `today` (an empty file for a quiet day), current.dat with the
// posts of `today` and later and the last kMinPostsKept posts before
// `today`, sequence, last-post, current.base, and today's and tomorrow's
// links to current.dat. A file already holding what it should is not
// written again. Errc::not_found when the database has no such room;
// Errc::invalid when the directory has posts that `overwrite` does not
// allow replacing (nothing written).
[[nodiscard]] Result<ExportReport> export_room(PgConnection& db, std::string_view slug,
                                               const std::filesystem::path& room_dir, Date today,
                                               Overwrite overwrite = Overwrite::never);

// A report as lines for the operator: a summary, then the notes.
std::vector<std::string> describe_import(const ImportReport& report);
std::vector<std::string> describe_export(const ExportReport& report);

}  // namespace chaton::postgres
