// SearchIndex: a room's search index, a filter over its files that lets a
// search read only the parts of the history that may hold a match
// (docs/STORAGE.md, "search.idx"; docs/PROTOCOL.md, "Search").
//
// The posts of each file of the room (every archived day file
// data/YYYY/MM/DD.dat, and the live log current.dat) are cut into blocks
// of consecutive lines: a block ends after kBlockPosts posts, or once the
// texts and nicknames of its posts reach kBlockBytes. Each block keeps its
// byte range in the file, its post count, the UTC days of its posts and a
// TrigramFilter of the folded texts and nicknames (trigrams.h). A block
// whose filter lacks a trigram of the query holds no match.
//
// The index is only a filter: IndexedDays (below) hands search::find() the
// posts of the candidate blocks, and find() confirms every one with
// search::matches(), exactly as it does when it scans. Since no matching
// post is ever left out and the candidates keep their order, the results
// are those of the scan (RoomDays), page for page. Where the index cannot
// answer for a day (a file it could not read, a file changed since it was
// indexed, a live log replaced), IndexedDays asks the exact source for the
// whole day, so a stale or missing index costs time, never a wrong answer.
//
// refresh() brings the index up to date before a search: it indexes the
// day files it does not know or whose identity (device, inode, size,
// modification time) changed, forgets those that are gone, and indexes
// what the live log gained since (all of it when the file was replaced, by
// the archiver or a moderation). So posts are found as soon as they are
// published, and the work per search is what arrived since the last one.
// The size of the live log is taken under the room lock, so a batch being
// written (and perhaps truncated again) is never indexed.
//
// Thread-safety: none; a room's searches run one at a time (SearchQueue),
// and so do refresh() and the IndexedDays built on it. Another process
// (`chaton check --repair`) may rewrite the file meanwhile: each writer
// replaces it whole, by rename. Lifetime: an IndexedDays must not outlive
// its SearchIndex, query or exact source.
#pragma once

#include <cstdint>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "messages/post.h"
#include "search/search.h"
#include "search/trigrams.h"
#include "store/file_io.h"
#include "util/civil_time.h"
#include "util/result.h"

namespace chaton::search {

inline constexpr std::string_view kIndexFileName = "search.idx";  // in DATADIR/data
// The file's format and fold. 2: filters of the NFKC_Casefold fold
// (search.h). A file of another version (1: the length-preserving fold of
// before) is not believed: load() refuses it, so the next refresh() writes
// it anew and `chaton check --repair` rebuilds it.
inline constexpr uint32_t kIndexVersion = 2;
// The version names the format too, so it is not search::kFoldVersion
// itself; but a new fold needs a new version.
static_assert(search::kFoldVersion == 2,
              "the fold changed: give kIndexVersion a new number, then update this");
inline constexpr size_t kBlockPosts = 64;    // posts in a block, at most
inline constexpr size_t kBlockBytes = 2048;  // a block ends once its texts and nicks reach this
// refresh() writes the file when the set of day files changed, the live
// log was replaced, or the live log grew by this much since the last write.
inline constexpr uint64_t kSaveAfterLiveBytes = 4 << 20;
inline constexpr uint64_t kTailHashBytes = 4096;

struct IndexBlock {
  uint64_t offset = 0;     // of its first line in the file
  uint64_t length = 0;     // whole lines, each with its "\n"
  uint32_t posts = 0;      // readable posts in it
  std::vector<Date> days;  // the UTC days of its posts, ascending, distinct
  TrigramFilter filter;
};

// One file as indexed: which file, how much of it, and its blocks in order.
struct IndexedFile {
  uint64_t dev = 0, ino = 0;
  uint64_t size = 0;     // a day file's size; for the live log, the bytes covered
  int64_t mtime_ns = 0;  // a day file's modification time (0 for the live log)
  // The live log: a hash of its last kTailHashBytes covered, so that a new
  // file that got the old one's inode number is not taken for it.
  uint64_t tail_hash = 0;
  std::vector<IndexBlock> blocks;
  // Bytes of texts and nicks in the last block while more lines may join
  // it (the live log); not stored, so a loaded block is never extended.
  size_t open_block_bytes = std::numeric_limits<size_t>::max();

  bool same_file(const IndexedFile& o) const {
    return dev == o.dev && ino == o.ino && size == o.size && mtime_ns == o.mtime_ns;
  }
};

// A room's search index, whatever keeps it: SearchIndex over the files
// (below), or the database's own for a room in PostgreSQL
// (postgres/pg_search.h). The search endpoint knows only this: it calls
// refresh(), then runs find() over narrow(); when refresh() fails it scans
// the exact source instead. Either way the results are the scan's, since
// an index only leaves out posts that cannot match.
//
// Thread-safety: one search at a time (a room's SearchQueue). Lifetime:
// what narrow() returns must not outlive the index, the query or `exact`,
// and is used before the next refresh().
class RoomIndex {
 public:
  virtual ~RoomIndex() = default;
  // Brings the index up to date before a search; stops early when
  // `cancelled` is raised. An error: search the exact source this time.
  virtual Status refresh(const StopFlag* cancelled = nullptr) = 0;
  // The days of `exact` for find(), each narrowed to a subsequence of its
  // posts, in order, that holds every post matching `query`.
  virtual std::unique_ptr<DaySource> narrow(const Query& query, DaySource& exact) = 0;
};

class SearchIndex final : public RoomIndex {
 public:
  // `datadir`: the room's data directory (holding data/ and lock).
  explicit SearchIndex(std::filesystem::path datadir);

  // Loads data/search.idx the first time (an unreadable one is ignored and
  // replaced), then brings the index up to date with the files (see above)
  // and writes the file when it changed enough. Stops early, keeping what
  // it did, when `cancelled` is raised. An error when the data directory is
  // missing; a day file that cannot be read is left to the exact source.
  Status refresh(const StopFlag* cancelled = nullptr) override;

  // An IndexedDays (below) over this index.
  std::unique_ptr<DaySource> narrow(const Query& query, DaySource& exact) override;

  // Forgets everything, indexes every file and writes data/search.idx.
  Status rebuild();

  // Writes data/search.idx (a temporary file renamed over it).
  Status save();

  struct Stats {
    size_t day_files = 0;
    size_t blocks = 0;
    uint64_t posts = 0;
    uint64_t file_bytes = 0;  // the size of data/search.idx as written
  };
  Stats stats() const;

  // data/search.idx compared with the files, for `chaton check`; reads
  // only. `detail` says what is wrong, empty when all is well.
  enum class State { ok, missing, unreadable, stale };
  struct Health {
    State state = State::ok;
    std::string detail;
  };
  static Health check(const std::filesystem::path& datadir);

  // The file's bytes for the current content (also what save() writes);
  // load() reads them back, or says why it cannot.
  std::string serialize() const;
  Status load(std::string_view bytes);

  const std::filesystem::path& path() const { return index_path_; }

 private:
  friend class IndexedDays;

  Status refresh_live(bool* changed);
  Status index_day(Date day);

  std::filesystem::path datadir_, data_dir_, index_path_;
  bool loaded_ = false;
  bool dirty_ = false;                // differs from the file in ways that matter
  uint64_t saved_live_size_ = 0;      // live.size when last written or read
  std::map<Date, IndexedFile> days_;  // real day files, indexed
  std::set<Date> unindexed_;          // real day files that could not be read
  IndexedFile live_;                  // current.dat
};

// The days of a room for find(), through the index: the same days as the
// exact source and, for each, a subsequence of its posts, in order, that
// holds every post matching `query` (see above). Built per search, right
// after SearchIndex::refresh(), which has checked every day file against
// the index; a candidate file is checked again when it is opened, and the
// live log when this is built.
class IndexedDays final : public DaySource {
 public:
  IndexedDays(const SearchIndex& index, const Query& query, DaySource& exact);
  std::vector<Date> days() override;
  std::vector<Post> posts(Date day) override;
  // Newest first: the live log's lines beyond the index, then the runs of
  // neighbouring candidate blocks from the end of the file back, each read
  // only when the search gets that far.
  void pieces(Date day, const Take& take) override;

 private:
  bool candidate(const IndexBlock& b) const { return b.filter.has_all(slots_); }
  bool in_candidate(const IndexBlock& b, Date day) const;  // a candidate with posts of `day`
  // Hands `take` the posts of `day` in the candidate blocks of `file`,
  // newest run first. `open_fd`: the live log as opened (and checked) when
  // this was built; -1 for a day file, opened here. False, with nothing
  // handed on, when the day file is no longer the one indexed.
  bool read_candidates(const std::filesystem::path& path, const IndexedFile& file, Date day, int open_fd,
                       const Take& take) const;

  const SearchIndex& index_;
  const Query& query_;
  DaySource& exact_;
  std::vector<uint16_t> slots_;
  std::filesystem::path live_path_;
  fileio::Fd live_fd_;           // current.dat, as checked against the index
  bool live_valid_ = true;       // current.dat is still the file indexed
  std::vector<Post> live_tail_;  // its posts after what the index covers
};

}  // namespace chaton::search
