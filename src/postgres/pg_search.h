// PgSearchIndex: the search index of a room in PostgreSQL
// (docs/SCALING.md, "Search"; docs/PROTOCOL.md, "Search").
//
// Every row of chaton_posts carries `folded`: its nickname and text folded
// by search::fold_case() (NFKC_Casefold), joined by a newline
// (folded_for_search()). The
// server computes it, so the database never decides what matches; a
// pg_trgm GIN index over it (schema migration 2) answers LIKE.
//
// A search asks for the room's posts, newest first, whose `folded` holds
// every term of the query (`folded LIKE '%term%'`, with a backslash before
// each %, _ and backslash of the term), in chunks, and hands them to
// search::find() day by day. The database only narrows: find() confirms
// every candidate with search::matches(), exactly as it does when it
// scans, and no matching post is left out (a term found in the nick or
// the text is found in `folded`), so the results are the scan's, page for
// page. A term of one
// or two characters gives pg_trgm no trigram: the index then cannot narrow
// (PostgreSQL reads more), but LIKE still decides the same.
//
// Each row also records which fold made its `folded`: `fold_version`
// (schema migration 4), search::kFoldVersion for what this binary writes,
// NULL for a fold made before migration 4 or by an older binary, which does
// not know the column. A row whose fold is missing (written before
// migration 2, or by an importer that left it out) or was made by another
// fold (fold_is_stale()) is always a candidate, so it is found; refresh()
// folds it again, a bounded batch at a time, writing both columns, so it
// stops costing anything. Migration 4 (kRefoldMigration, schema.h) marks
// the folds of pure-ASCII posts as current (the length-preserving fold of
// before lowercased ASCII as NFKC_Casefold does) and drops the others.
//
// A rolling upgrade is therefore safe: a node of before that still runs
// after another node applied migration 4 goes on writing its old fold
// (`straße`, not `strasse`) with fold_version NULL; the new nodes treat
// those rows as unfolded, find them, and fold them again. Until every node
// runs the new binary, a search answered by an old node may miss what only
// the new fold matches (its LIKE is on its own fold), never more. An
// importer writing chaton_posts directly fills `folded` with
// folded_for_search() and `fold_version` with kFoldVersion, or leaves both
// NULL.
//
// When the database fails during a search, the rest of it reads the exact
// source (which reads the same database, so it usually finds little): a
// failure costs results, never a crash, and is logged.
//
// Thread-safety: none; a room's searches run one at a time (SearchQueue).
// The index has a connection of its own, opened by the first search.
// Lifetime: what narrow() returns must not outlive the index, the query or
// the exact source.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "messages/post.h"
#include "postgres/pg_connection.h"
#include "search/search.h"
#include "search/search_index.h"
#include "util/civil_time.h"
#include "util/result.h"

namespace chaton::postgres {

// Candidates fetched by a search's first query; each next query fetches
// twice as many, up to kMaxCandidateFetch.
inline constexpr size_t kFirstCandidateFetch = 64;
inline constexpr size_t kMaxCandidateFetch = 4096;
// refresh() folds rows without a current fold (fold_is_stale()) in
// batches of this many,
// for at most kBackfillTime (the rest: at the next search).
inline constexpr size_t kBackfillBatch = 1000;
inline constexpr std::chrono::milliseconds kBackfillTime{2000};

// What chaton_posts.folded holds for a post with this nick and text.
std::string folded_for_search(std::string_view nick, std::string_view text);

// What chaton_posts.fold_version holds beside folded_for_search()'s fold.
inline constexpr int kFoldVersion = search::kFoldVersion;
// An SQL condition on chaton_posts: true where the row has no fold this
// binary can trust (none, or one made by another fold than kFoldVersion's).
// Schema migration 4's partial index chaton_posts_unfolded is on exactly
// this condition (schema.cpp).
std::string fold_is_stale();

// A LIKE pattern that matches any string holding `term`: "%" + the term
// with \, % and _ escaped by \ + "%".
std::string like_containing(std::string_view term);

class PgSearchIndex final : public search::RoomIndex {
 public:
  // The room `slug` in the database at `url` (schema.h). Connects lazily.
  PgSearchIndex(std::string url, std::string slug);

  // Finds the room, then folds rows whose fold is stale (above).
  Status refresh(const search::StopFlag* cancelled = nullptr) override;
  // The room's days, each narrowed to the candidates the database finds.
  std::unique_ptr<search::DaySource> narrow(const search::Query& query, search::DaySource& exact) override;

  // --- the queries narrow() makes, after a successful refresh().

  // The days that have posts, newest first.
  Result<std::vector<Date>> days();

  struct Candidate {
    uint64_t seq = 0;
    Date day;
    Post post;  // seq left 0, as Store::read_day() leaves it
  };
  // At most `max` posts with seq below `before` that may match `query`,
  // newest first.
  Result<std::vector<Candidate>> candidates(const search::Query& query, uint64_t before, size_t max);

  // Folds up to `max` rows of the room whose fold is stale; how many.
  Result<size_t> backfill(size_t max);

 private:
  std::string slug_;
  PgConnection db_;
  int64_t room_id_ = 0;  // 0: not found yet
};

}  // namespace chaton::postgres
