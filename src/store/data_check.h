// Checking a room's data directory (`chaton check`), and repairing what is
// safe to repair (`chaton check --repair`).
//
// check() reads DATADIR and lists what is wrong: unreadable lines (with file
// and line number) in current.dat and the day files, posts filed under the
// wrong day, counts (.cnt) that disagree with their day file, a `sequence`
// smaller than the posts in current.dat, a torn last line, and missing or
// wrong symbolic links for today's and tomorrow's day files.
//
// repair() takes the room lock (the same as the server and the archiver, so
// it is safe beside a running server) and fixes only what cannot lose
// anything: it rewrites a wrong .cnt, recreates today's and tomorrow's
// links, appends a newline to a torn current.dat, and raises `sequence` to
// at least the number of posts in current.dat. It never deletes or rewrites
// a post.
//
// Free functions; thread-safe as far as the file system is.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "util/civil_time.h"
#include "util/result.h"

namespace chaton::datacheck {

// How repair() fixes a problem; none when it is left to the operator.
enum class Fix { none, rewrite_count, make_link, add_newline, raise_sequence };

struct Problem {
  std::string file;  // the file concerned (a path)
  size_t line = 0;   // 1-based; 0 when it is not about one line
  std::string what;
  bool repairable = false;
  Fix fix = Fix::none;
  uint64_t value = 0;  // rewrite_count, raise_sequence: the right number
};

// "FILE:LINE: what (repairable)" as the command prints it.
std::string format_problem(const Problem& p);

// Problems of DATADIR (the room's data_dir, holding data/ and lock), with
// `today` deciding which day files must be links to current.dat. Reads only.
std::vector<Problem> check(const std::filesystem::path& datadir, Date today);

struct RepairReport {
  std::vector<Problem> fixed;
  std::vector<std::string> failures;  // repairs that were tried and failed
};

// Fixes the repairable problems, under the room lock. An error when the
// directory is not a room's or cannot be locked; nothing is touched then.
Result<RepairReport> repair(const std::filesystem::path& datadir, Date today);

}  // namespace chaton::datacheck
