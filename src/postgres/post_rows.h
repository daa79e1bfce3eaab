// How posts travel to and from the tables (docs/SCALING.md, "The
// database is the store of record"): the pieces of SQL and the conversions
// that the store, search and room transfer share.
//
// Days travel as day numbers (days since 1970-01-01, kEpoch + n in SQL),
// so no date format passes between us and the server; numbers travel as
// decimal text parameters.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "messages/post.h"
#include "postgres/pg_connection.h"
#include "util/civil_time.h"

namespace chaton::postgres {

inline constexpr std::string_view kEpoch = "date '1970-01-01'";
// The columns posts_of() reads, in its order.
inline constexpr std::string_view kPostColumns = "seq, sec, usec, nick, text, ip";

inline std::string num(int64_t v) { return std::to_string(v); }
inline std::string num(uint64_t v) { return std::to_string(v); }

inline int64_t day_number(Date d) { return days_from_civil(d); }

// Rows whose first columns are kPostColumns, as posts (seq left 0 unless
// `with_seq`).
std::vector<Post> posts_of(const PgResult& r, bool with_seq);

}  // namespace chaton::postgres
