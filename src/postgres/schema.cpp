// The migrations, oldest first; docs/SCALING.md, "Schema", describes the
// tables they make.
#include "postgres/schema.h"

#include <array>
#include <string>

#include "search/search.h"

namespace chaton::postgres {

namespace {

// Any number, the same in every node: the advisory lock that serializes
// migrations.
constexpr std::string_view kMigrationLock = "SELECT pg_advisory_xact_lock(7295361402)";

constexpr std::array<std::string_view, 5> kMigrations = {
    // 1: rooms, their posts, their per-day counts, and who is connected.
    R"sql(
CREATE TABLE chaton_rooms (
  id bigserial PRIMARY KEY,
  slug text NOT NULL UNIQUE,
  sequence bigint NOT NULL DEFAULT 0,
  last_post bigint NOT NULL DEFAULT 0,
  moderated bigint NOT NULL DEFAULT 0
);
CREATE TABLE chaton_posts (
  room_id bigint NOT NULL REFERENCES chaton_rooms (id),
  seq bigint NOT NULL,
  day date NOT NULL,
  sec bigint NOT NULL,
  usec integer NOT NULL,
  nick text NOT NULL,
  text text NOT NULL,
  ip text,
  PRIMARY KEY (room_id, seq)
);
CREATE INDEX chaton_posts_day ON chaton_posts (room_id, day, seq);
CREATE TABLE chaton_days (
  room_id bigint NOT NULL REFERENCES chaton_rooms (id),
  day date NOT NULL,
  posts bigint NOT NULL,
  PRIMARY KEY (room_id, day)
);
CREATE TABLE chaton_chatters (
  room_id bigint NOT NULL REFERENCES chaton_rooms (id),
  node text NOT NULL,
  chatters integer NOT NULL,
  seen timestamptz NOT NULL,
  PRIMARY KEY (room_id, node)
);
)sql",
    // 2: search (postgres/pg_search.h): each post's nick and text folded
    // as search folds them (written by the server, never computed here),
    // a trigram index over it for LIKE, and an index of the rows written
    // before, whose fold the server fills in.
    R"sql(
CREATE EXTENSION IF NOT EXISTS pg_trgm;
ALTER TABLE chaton_posts ADD COLUMN folded text;
CREATE INDEX chaton_posts_folded ON chaton_posts USING gin (folded gin_trgm_ops);
CREATE INDEX chaton_posts_unfolded ON chaton_posts (room_id, seq) WHERE folded IS NULL;
)sql",
    // 3: the cids the nodes gave out, so a client may take its cid to any
    // node (docs/SCALING.md, "Clients across nodes").
    R"sql(
CREATE TABLE chaton_cids (
  room_id bigint NOT NULL REFERENCES chaton_rooms (id),
  cid bigint NOT NULL,
  issued timestamptz NOT NULL,
  PRIMARY KEY (room_id, cid)
);
CREATE INDEX chaton_cids_issued ON chaton_cids (room_id, issued);
)sql",
    // 4 (kRefoldMigration): search folds case with NFKC_Casefold now
    // (search/search.h, fold version 2), and each row says which fold made
    // its `folded` (postgres/pg_search.h): fold_version, NULL for the fold
    // of before and for rows an older node still writes. A post of ASCII
    // alone folds as before (its lowercase): marked current; any other
    // fold is dropped. The rows whose fold is missing or not version 2 are
    // the ones searches fold again; the partial index finds them (the same
    // condition as fold_is_stale(), pg_search.h).
    R"sql(
ALTER TABLE chaton_posts ADD COLUMN fold_version smallint;
UPDATE chaton_posts SET fold_version = 2
  WHERE folded IS NOT NULL AND nick !~ '[^\x01-\x7f]' AND text !~ '[^\x01-\x7f]';
UPDATE chaton_posts SET folded = NULL WHERE folded IS NOT NULL AND fold_version IS NULL;
DROP INDEX chaton_posts_unfolded;
CREATE INDEX chaton_posts_unfolded ON chaton_posts (room_id, seq)
  WHERE folded IS NULL OR fold_version IS DISTINCT FROM 2;
)sql",
    // 5: the numbering each cid was given in (chaton_rooms.moderated as its
    // node had loaded it; NULL from a node that did not say), so a client
    // that comes back from before a moderation is started over on any node
    // (docs/SCALING.md, "Moderation").
    R"sql(
ALTER TABLE chaton_cids ADD COLUMN IF NOT EXISTS moderated bigint;
)sql",
};

}  // namespace

static_assert(kRefoldMigration <= static_cast<int>(kMigrations.size()));
// Migration 4 writes and indexes fold version 2. A new fold needs a new
// migration that recreates chaton_posts_unfolded for its number, so that
// the searches' fold_is_stale() can use it.
static_assert(search::kFoldVersion == 2, "the fold changed: add a migration for its chaton_posts_unfolded");

int schema_version() { return static_cast<int>(kMigrations.size()); }

Result<int> migrate(PgConnection& db) {
  auto fail = [&](Status st) -> Result<int> {
    (void)db.exec("ROLLBACK");
    return st;
  };
  if (auto r = db.exec("BEGIN"); !r) return r.status();
  if (auto r = db.exec(kMigrationLock); !r) return fail(r.status());
  if (auto r = db.exec("CREATE TABLE IF NOT EXISTS chaton_schema (version integer NOT NULL)"); !r)
    return fail(r.status());
  auto found = db.exec("SELECT coalesce(max(version), 0) FROM chaton_schema");
  if (!found) return fail(found.status());
  int before = static_cast<int>(found->int64(0, 0));
  if (before > schema_version())
    return fail(Status(Errc::invalid, "the database at " + db.where() + " has schema version " +
                                          std::to_string(before) + ", newer than this chaton's (" +
                                          std::to_string(schema_version()) + "): upgrade chaton"));
  for (int v = before + 1; v <= schema_version(); ++v) {
    if (auto r = db.exec(kMigrations[static_cast<size_t>(v - 1)]); !r)
      return fail(
          Status(r.status().code(), "schema migration " + std::to_string(v) + ": " + r.status().message()));
    if (auto r = db.exec("INSERT INTO chaton_schema (version) VALUES (" + std::to_string(v) + ")"); !r)
      return fail(r.status());
  }
  if (auto r = db.exec("COMMIT"); !r) return r.status();
  return before;
}

}  // namespace chaton::postgres
