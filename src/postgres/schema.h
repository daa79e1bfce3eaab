// The PostgreSQL schema of Chaton's rooms, created and migrated by the
// server (docs/SCALING.md, "Schema").
//
// Migrations are numbered; the database records the newest it has in
// chaton_schema. migrate() applies the missing ones in one transaction
// under an advisory lock, so several nodes starting at once migrate once.
// A database whose schema is newer than this binary knows is refused: an
// older node must not write into a layout it does not understand.
//
// Thread-safety: free functions over one connection.
#pragma once

#include "postgres/pg_connection.h"
#include "util/result.h"

namespace chaton::postgres {

// The schema version this binary writes.
int schema_version();

// The migration that adds chaton_posts.fold_version, the fold each row's
// search fold (chaton_posts.folded) was made with, and drops the folds
// written with the length-preserving fold of before, so that searches fold
// those rows again with NFKC_Casefold (postgres/pg_search.h), and any row
// an older node writes after it too.
inline constexpr int kRefoldMigration = 4;

// Brings the database to schema_version(). Returns the version found
// before (0 for an empty database).
[[nodiscard]] Result<int> migrate(PgConnection& db);

}  // namespace chaton::postgres
