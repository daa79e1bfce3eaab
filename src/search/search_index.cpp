// The search index: see search_index.h, and docs/STORAGE.md, "search.idx".
#include "search/search_index.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <system_error>
#include <utility>

#include "messages/line_codec.h"
#include "store/file_io.h"
#include "util/file.h"
#include "util/text.h"

namespace chaton::search {

namespace fs = std::filesystem;
using fileio::Fd;
using fileio::io_message;

static_assert(std::endian::native == std::endian::little, "search.idx is written little-endian");

namespace {

constexpr std::string_view kMagic = "CHTNSIDX";  // 8 bytes
constexpr std::string_view kLockName = "lock";
// Neighbouring candidate blocks are read with one pread up to this many
// bytes, so that a search that fills its page early reads little more.
constexpr uint64_t kMaxRunBytes = 32 * 1024;

// ---- reading files

// The identity of an open file (day files: with size and mtime).
IndexedFile identity_of(const struct stat& st, bool with_times) {
  IndexedFile f;
  f.dev = static_cast<uint64_t>(st.st_dev);
  f.ino = static_cast<uint64_t>(st.st_ino);
  f.size = static_cast<uint64_t>(st.st_size);
  if (with_times) f.mtime_ns = int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec;
  return f;
}

// Bytes [offset, offset+length) of an open file; fewer when it is shorter.
Result<std::string> read_range(int fd, uint64_t offset, uint64_t length, const fs::path& path) {
  std::string out(length, '\0');
  size_t done = 0;
  while (done < length) {
    ssize_t n = ::pread(fd, out.data() + done, length - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status(Errc::io, io_message("cannot read", path, errno));
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  out.resize(done);
  return out;
}

// ---- building blocks

// Adds the lines of `bytes` (which starts at file offset `base`) to the
// blocks of `file`. Only lines ending in "\n" are taken unless `take_last`;
// returns the bytes taken.
uint64_t add_lines(IndexedFile& file, std::string_view bytes, uint64_t base, bool take_last) {
  size_t start = 0;
  while (start < bytes.size()) {
    size_t nl = bytes.find('\n', start);
    if (nl == std::string_view::npos && !take_last) break;
    size_t end = nl == std::string_view::npos ? bytes.size() : nl + 1;
    std::string_view line = bytes.substr(start, end - start);
    if (file.blocks.empty() || file.open_block_bytes >= kBlockBytes ||
        file.blocks.back().posts >= kBlockPosts) {
      file.blocks.push_back(IndexBlock{base + start, 0, 0, {}, {}});
      file.open_block_bytes = 0;
    }
    IndexBlock& b = file.blocks.back();
    b.length += line.size();
    std::string_view content = line.substr(0, nl == std::string_view::npos ? line.size() : line.size() - 1);
    if (!trim(content).empty()) {
      if (auto post = decode_line(content)) {
        ++b.posts;
        b.filter.add(fold_case(post->text));
        b.filter.add(fold_case(post->nick));
        file.open_block_bytes += post->text.size() + post->nick.size();
        Date d = fileio::day_of(post->sec);
        auto at = std::lower_bound(b.days.begin(), b.days.end(), d);
        if (at == b.days.end() || *at != d) b.days.insert(at, d);
      }
    }
    start = end;
  }
  return start;
}

// ---- listing the day files (the rules of store/file_archive.cpp: a
// data/YYYY/MM/DD.dat that is a real file, with a valid date)

std::optional<int> two_digits(std::string_view s) {
  if (s.size() != 2 || s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9') return std::nullopt;
  return (s[0] - '0') * 10 + (s[1] - '0');
}

// The entries of a directory open at `fd` (which is closed), or of the
// directory `name` under `parent` (an fd, or AT_FDCWD with a path).
template <typename Fn>
void for_each_entry(int parent, const char* name, Fn fn) {
  int fd = ::openat(parent, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  DIR* dir = ::fdopendir(fd);
  if (!dir) {
    ::close(fd);
    return;
  }
  while (struct dirent* e = ::readdir(dir)) fn(::dirfd(dir), std::string_view(e->d_name));
  ::closedir(dir);
}

// Every real day file with its identity: one readdir per directory and
// one fstatat per day file, by its short name (a search does this each
// time, so it is kept cheap).
std::map<Date, IndexedFile> list_day_files(const fs::path& data_dir) {
  std::map<Date, IndexedFile> out;
  for_each_entry(AT_FDCWD, data_dir.c_str(), [&](int data_fd, std::string_view yname) {
    auto year = yname.size() == 4 ? parse_int(yname) : std::nullopt;
    if (!year || !is_valid_date(Date{static_cast<int>(*year), 1, 1})) return;
    for_each_entry(data_fd, std::string(yname).c_str(), [&](int year_fd, std::string_view mname) {
      auto month = two_digits(mname);
      if (!month || *month < 1 || *month > 12) return;
      for_each_entry(year_fd, std::string(mname).c_str(), [&](int month_fd, std::string_view name) {
        if (name.size() != 6 || name.substr(2) != ".dat") return;
        auto day = two_digits(name.substr(0, 2));
        Date d{static_cast<int>(*year), *month, day ? *day : 0};
        if (!day || !is_valid_date(d)) return;
        struct stat st {};
        if (::fstatat(month_fd, std::string(name).c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 ||
            !S_ISREG(st.st_mode))
          return;
        out.emplace(d, identity_of(st, true));
      });
    });
  });
  return out;
}

// ---- the file format (docs/STORAGE.md, "search.idx")

void put_u16(std::string& out, uint16_t v) { out.append(reinterpret_cast<const char*>(&v), sizeof v); }
void put_u32(std::string& out, uint32_t v) { out.append(reinterpret_cast<const char*>(&v), sizeof v); }
void put_u64(std::string& out, uint64_t v) { out.append(reinterpret_cast<const char*>(&v), sizeof v); }

uint32_t date_code(Date d) { return static_cast<uint32_t>(d.year * 10000 + d.month * 100 + d.day); }
Date date_of_code(uint32_t c) {
  return Date{static_cast<int>(c / 10000), static_cast<int>(c / 100 % 100), static_cast<int>(c % 100)};
}

// The hash of the last kTailHashBytes of [0, covered) of an open file.
Result<uint64_t> tail_hash_of(int fd, uint64_t covered, const fs::path& path) {
  uint64_t from = covered > kTailHashBytes ? covered - kTailHashBytes : 0;
  auto bytes = read_range(fd, from, covered - from, path);
  if (!bytes) return bytes.status();
  return fnv1a64(*bytes);
}

// True when the open live log at `now` (its identity) is still the file
// `indexed` describes: same device and inode, no shorter, same tail.
bool same_live_log(int fd, const IndexedFile& now, const IndexedFile& indexed, const fs::path& path) {
  if (now.dev != indexed.dev || now.ino != indexed.ino || now.size < indexed.size) return false;
  auto hash = tail_hash_of(fd, indexed.size, path);
  return hash && *hash == indexed.tail_hash;
}

void put_file(std::string& out, const IndexedFile& f) {
  put_u64(out, f.dev);
  put_u64(out, f.ino);
  put_u64(out, f.size);
  put_u64(out, static_cast<uint64_t>(f.mtime_ns));
  put_u64(out, f.tail_hash);
  put_u32(out, static_cast<uint32_t>(f.blocks.size()));
  for (const IndexBlock& b : f.blocks) {
    put_u64(out, b.offset);
    put_u64(out, b.length);
    put_u32(out, b.posts);
    put_u16(out, static_cast<uint16_t>(b.days.size()));
    for (Date d : b.days) put_u32(out, date_code(d));
    out.append(reinterpret_cast<const char*>(b.filter.words().data()), kFilterBytes);
  }
}

class Reader {
 public:
  explicit Reader(std::string_view s) : s_(s) {}
  template <typename T>
  bool get(T& v) {
    if (s_.size() - at_ < sizeof v) return false;
    std::memcpy(&v, s_.data() + at_, sizeof v);
    at_ += sizeof v;
    return true;
  }
  bool get_bytes(void* p, size_t n) {
    if (s_.size() - at_ < n) return false;
    std::memcpy(p, s_.data() + at_, n);
    at_ += n;
    return true;
  }
  size_t left() const { return s_.size() - at_; }

 private:
  std::string_view s_;
  size_t at_ = 0;
};

bool get_file(Reader& r, IndexedFile& f) {
  uint64_t mtime = 0;
  uint32_t blocks = 0;
  if (!r.get(f.dev) || !r.get(f.ino) || !r.get(f.size) || !r.get(mtime) || !r.get(f.tail_hash) ||
      !r.get(blocks))
    return false;
  f.mtime_ns = static_cast<int64_t>(mtime);
  // Each block takes at least this much: a count larger than the file is corrupt.
  constexpr size_t kMinBlock = 8 + 8 + 4 + 2 + kFilterBytes;
  if (blocks > r.left() / kMinBlock) return false;
  f.blocks.resize(blocks);
  uint64_t end = 0;
  for (IndexBlock& b : f.blocks) {
    uint16_t ndays = 0;
    if (!r.get(b.offset) || !r.get(b.length) || !r.get(b.posts) || !r.get(ndays)) return false;
    // Blocks tile the file from its start and stay inside it (no wrap past 2^64).
    if (b.offset != end || b.length == 0 || end > f.size || b.length > f.size - end) return false;
    end = b.offset + b.length;
    b.days.resize(ndays);
    for (Date& d : b.days) {
      uint32_t code = 0;
      if (!r.get(code)) return false;
      d = date_of_code(code);
      if (!is_valid_date(d)) return false;
    }
    if (!r.get_bytes(b.filter.words().data(), kFilterBytes)) return false;
  }
  if (end != f.size) return false;
  f.open_block_bytes = std::numeric_limits<size_t>::max();
  return true;
}

std::string describe_dates(const std::vector<Date>& days) {
  std::string s;
  for (size_t i = 0; i < days.size() && i < 3; ++i) s += (i ? ", " : "") + format_date_path(days[i]);
  if (days.size() > 3) s += " and " + std::to_string(days.size() - 3) + " more";
  return s;
}

}  // namespace

// ---- SearchIndex

SearchIndex::SearchIndex(fs::path datadir)
    : datadir_(std::move(datadir)), data_dir_(datadir_ / "data"), index_path_(data_dir_ / kIndexFileName) {}

std::string SearchIndex::serialize() const {
  std::string out(kMagic);
  put_u32(out, kIndexVersion);
  put_u32(out, static_cast<uint32_t>(kFilterBits));
  put_file(out, live_);
  put_u32(out, static_cast<uint32_t>(days_.size()));
  for (const auto& [day, file] : days_) {
    put_u32(out, date_code(day));
    put_file(out, file);
  }
  put_u64(out, fnv1a64(out));
  return out;
}

Status SearchIndex::load(std::string_view bytes) {
  auto bad = [&](std::string why) { return Status(Errc::corrupt, index_path_.string() + ": " + why); };
  if (bytes.size() < kMagic.size() + 8 + 8 || bytes.substr(0, kMagic.size()) != kMagic)
    return bad("not a search index");
  std::string_view body = bytes.substr(0, bytes.size() - 8);
  uint64_t sum = 0;
  std::memcpy(&sum, bytes.data() + body.size(), 8);
  Reader r(body.substr(kMagic.size()));
  uint32_t version = 0, bits = 0;
  if (!r.get(version) || !r.get(bits)) return bad("truncated");
  if (version != kIndexVersion || bits != kFilterBits)
    return bad("version " + std::to_string(version) + ", not " + std::to_string(kIndexVersion) +
               " (made by another chaton, perhaps with another case fold)");
  if (fnv1a64(body) != sum) return bad("checksum mismatch (damaged)");
  IndexedFile live;
  std::map<Date, IndexedFile> days;
  uint32_t count = 0;
  if (!get_file(r, live) || !r.get(count)) return bad("truncated or inconsistent");
  for (uint32_t i = 0; i < count; ++i) {
    uint32_t code = 0;
    IndexedFile f;
    if (!r.get(code) || !get_file(r, f) || !is_valid_date(date_of_code(code)))
      return bad("truncated or inconsistent");
    days.emplace(date_of_code(code), std::move(f));
  }
  if (r.left() != 0) return bad("trailing bytes");
  live_ = std::move(live);
  days_ = std::move(days);
  unindexed_.clear();
  saved_live_size_ = live_.size;
  return Status::ok();
}

Status SearchIndex::save() {
  std::string bytes = serialize();
  if (Status st = fileio::replace_file(index_path_, bytes); !st) return st;
  dirty_ = false;
  saved_live_size_ = live_.size;
  return Status::ok();
}

SearchIndex::Stats SearchIndex::stats() const {
  Stats s;
  s.day_files = days_.size();
  auto add = [&](const IndexedFile& f) {
    s.blocks += f.blocks.size();
    for (const IndexBlock& b : f.blocks) s.posts += b.posts;
  };
  add(live_);
  for (const auto& [day, f] : days_) add(f);
  s.file_bytes = serialize().size();
  return s;
}

// The live log's size is taken under the room lock: every batch below it is
// complete (a failed one is truncated before the lock is released), and
// current.dat only grows while it is the same file.
Status SearchIndex::refresh_live(bool* changed) {
  fs::path path = data_dir_ / fileio::kCurrentName;
  Fd lock_fd;
  if (Status st = fileio::open_lock_file(datadir_ / kLockName, lock_fd); !st) return st;
  Fd fd;
  struct stat st {};
  {
    fileio::LockGuard lock(lock_fd.get());
    if (!lock.locked()) return Status(Errc::io, io_message("cannot lock", datadir_ / kLockName, errno));
    fd.reset(fileio::open_retry(path, O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) {
      if (errno != ENOENT) return Status(Errc::io, io_message("cannot open", path, errno));
    } else if (::fstat(fd.get(), &st) != 0) {
      return Status(Errc::io, io_message("cannot stat", path, errno));
    }
  }
  if (!fd.valid()) {  // no live log (yet)
    if (live_.ino != 0 || !live_.blocks.empty()) {
      live_ = IndexedFile{};
      *changed = true;
    }
    return Status::ok();
  }
  IndexedFile now = identity_of(st, false);
  if (!same_live_log(fd.get(), now, live_, path)) {
    live_ = IndexedFile{};
    live_.dev = now.dev;
    live_.ino = now.ino;
    *changed = true;
  }
  if (now.size == live_.size && live_.size > 0) return Status::ok();
  auto bytes = read_range(fd.get(), live_.size, now.size - live_.size, path);
  if (!bytes) return bytes.status();
  live_.size += add_lines(live_, *bytes, live_.size, false);
  auto hash = tail_hash_of(fd.get(), live_.size, path);
  if (!hash) return hash.status();
  live_.tail_hash = *hash;
  return Status::ok();
}

Status SearchIndex::index_day(Date day) {
  fs::path path = fileio::day_file(data_dir_, day);
  Fd fd(fileio::open_retry(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  struct stat st {};
  if (!fd.valid()) return Status(Errc::io, io_message("cannot open", path, errno));
  if (::fstat(fd.get(), &st) != 0) return Status(Errc::io, io_message("cannot stat", path, errno));
  IndexedFile file = identity_of(st, true);
  auto bytes = read_range(fd.get(), 0, file.size, path);
  if (!bytes) return bytes.status();
  if (bytes->size() != file.size) return Status(Errc::io, path.string() + ": changed while read");
  add_lines(file, *bytes, 0, true);
  file.open_block_bytes = std::numeric_limits<size_t>::max();
  days_[day] = std::move(file);
  return Status::ok();
}

Status SearchIndex::refresh(const StopFlag* cancelled) {
  std::error_code ec;
  if (!fs::is_directory(data_dir_, ec))
    return Status(Errc::not_found, "no data directory " + data_dir_.string());
  if (!loaded_) {
    loaded_ = true;
    auto bytes = read_file(index_path_);
    if (!bytes || !load(*bytes)) {
      live_ = IndexedFile{};
      days_.clear();
      dirty_ = true;  // missing or unreadable: written anew below
    }
  }
  bool live_changed = false;
  if (Status st = refresh_live(&live_changed); !st) return st;
  if (live_changed) dirty_ = true;

  std::map<Date, IndexedFile> listed = list_day_files(data_dir_);
  for (auto it = days_.begin(); it != days_.end();) {
    if (!listed.contains(it->first)) {
      it = days_.erase(it);
      dirty_ = true;
    } else {
      ++it;
    }
  }
  unindexed_.clear();
  for (const auto& [day, identity] : listed) {
    auto have = days_.find(day);
    if (have != days_.end() && have->second.same_file(identity)) continue;
    if (cancelled && cancelled->load()) {
      unindexed_.insert(day);
      continue;
    }
    dirty_ = true;
    if (!index_day(day)) {
      days_.erase(day);
      unindexed_.insert(day);
    }
  }
  if (dirty_ || live_.size >= saved_live_size_ + kSaveAfterLiveBytes) {
    // Not fatal: the index in memory is right; the next refresh tries again.
    if (Status st = save(); !st) return Status::ok();
  }
  return Status::ok();
}

Status SearchIndex::rebuild() {
  loaded_ = true;
  live_ = IndexedFile{};
  days_.clear();
  unindexed_.clear();
  dirty_ = true;
  if (Status st = refresh(); !st) return st;
  if (!unindexed_.empty())
    return Status(Errc::io,
                  "cannot read the day files " + describe_dates({unindexed_.begin(), unindexed_.end()}));
  return dirty_ ? save() : Status::ok();
}

SearchIndex::Health SearchIndex::check(const fs::path& datadir) {
  SearchIndex index(datadir);
  auto bytes = read_file(index.index_path_);
  if (!bytes) {
    if (bytes.status().code() == Errc::not_found) return {State::missing, "no search index yet"};
    return {State::unreadable, bytes.status().message()};
  }
  if (Status st = index.load(*bytes); !st) return {State::unreadable, st.message()};
  std::vector<Date> changed, gone;
  std::map<Date, IndexedFile> listed = list_day_files(index.data_dir_);
  for (const auto& [day, identity] : listed) {
    auto have = index.days_.find(day);
    if (have == index.days_.end() || !have->second.same_file(identity)) changed.push_back(day);
  }
  for (const auto& [day, file] : index.days_)
    if (!listed.contains(day)) gone.push_back(day);
  std::vector<std::string> why;
  if (!changed.empty()) why.push_back("day files new or changed since indexed: " + describe_dates(changed));
  if (!gone.empty()) why.push_back("day files gone: " + describe_dates(gone));
  struct stat st {};
  fs::path current = index.data_dir_ / fileio::kCurrentName;
  Fd fd(fileio::open_retry(current, O_RDONLY | O_CLOEXEC));
  if (fd.valid() && ::fstat(fd.get(), &st) == 0) {
    if (!same_live_log(fd.get(), identity_of(st, false), index.live_, current))
      why.push_back("current.dat was replaced since indexed");
  } else if (!index.live_.blocks.empty()) {
    why.push_back("current.dat is gone");
  }
  if (why.empty()) return {State::ok, {}};
  std::string detail;
  for (const std::string& w : why) detail += (detail.empty() ? "" : "; ") + w;
  return {State::stale, detail};
}

// ---- IndexedDays

std::unique_ptr<DaySource> SearchIndex::narrow(const Query& query, DaySource& exact) {
  return std::make_unique<IndexedDays>(*this, query, exact);
}

IndexedDays::IndexedDays(const SearchIndex& index, const Query& query, DaySource& exact)
    : index_(index),
      query_(query),
      exact_(exact),
      slots_(query_slots(query)),
      live_path_(index_.data_dir_ / fileio::kCurrentName) {
  // The live log's lines after what the index covers: a torn last line, and
  // posts that came after the refresh. Read as the scan reads them.
  const fs::path& path = live_path_;
  live_fd_.reset(fileio::open_retry(path, O_RDONLY | O_CLOEXEC));
  const Fd& fd = live_fd_;
  struct stat st {};
  if (!fd.valid() || ::fstat(fd.get(), &st) != 0) {
    live_valid_ = !fd.valid() && errno == ENOENT && index_.live_.blocks.empty();
    return;
  }
  IndexedFile now = identity_of(st, false);
  const IndexedFile& live = index_.live_;
  if (!same_live_log(fd.get(), now, live, path)) {
    live_valid_ = false;
    return;
  }
  auto tail = read_range(fd.get(), live.size, now.size - live.size, path);
  if (!tail) {
    live_valid_ = false;
    return;
  }
  live_tail_ = parse_log(*tail).posts;
}

std::vector<Date> IndexedDays::days() {
  std::set<Date> all;
  for (const auto& [day, file] : index_.days_) all.insert(day);
  all.insert(index_.unindexed_.begin(), index_.unindexed_.end());
  for (const IndexBlock& b : index_.live_.blocks) all.insert(b.days.begin(), b.days.end());
  for (const Post& p : live_tail_) all.insert(fileio::day_of(p.sec));
  if (!live_valid_) {
    for (Date d : exact_.days()) all.insert(d);
  }
  return {all.rbegin(), all.rend()};
}

bool IndexedDays::in_candidate(const IndexBlock& b, Date day) const {
  return std::binary_search(b.days.begin(), b.days.end(), day) && candidate(b);
}

bool IndexedDays::read_candidates(const fs::path& path, const IndexedFile& file, Date day, int open_fd,
                                  const Take& take) const {
  // The runs of neighbouring candidate blocks, each read with one pread.
  std::vector<std::pair<uint64_t, uint64_t>> runs;  // [begin, end) in the file
  for (size_t i = 0; i < file.blocks.size(); ++i) {
    if (!in_candidate(file.blocks[i], day)) continue;
    uint64_t end = file.blocks[i].offset + file.blocks[i].length;
    if (!runs.empty() && runs.back().second == file.blocks[i].offset &&
        runs.back().second - runs.back().first < kMaxRunBytes)
      runs.back().second = end;
    else
      runs.emplace_back(file.blocks[i].offset, end);
  }
  Fd own;
  if (open_fd < 0) {  // a day file: it must still be the one indexed, even when no block is a candidate
    own.reset(fileio::open_retry(path, O_RDONLY | O_CLOEXEC));
    struct stat st {};
    if (!own.valid() || ::fstat(own.get(), &st) != 0 || !identity_of(st, true).same_file(file)) return false;
    open_fd = own.get();
  }
  if (runs.empty()) return true;
  // Newest first, so that a search that fills its page stops early.
  for (auto run = runs.rbegin(); run != runs.rend(); ++run) {
    auto bytes = read_range(open_fd, run->first, run->second - run->first, path);
    // A read error after the file was opened and checked: what was read is
    // all the day gives, as a scan that failed to read the file gets little.
    if (!bytes) return true;
    std::vector<Post> piece;
    for (Post& p : parse_log(*bytes).posts)
      if (fileio::day_of(p.sec) == day) piece.push_back(std::move(p));
    if (!piece.empty() && !take(piece)) return true;
  }
  return true;
}

void IndexedDays::pieces(Date day, const Take& take) {
  auto whole = [&] {
    std::vector<Post> all = exact_.posts(day);
    take(all);
  };
  if (!live_valid_ || index_.unindexed_.contains(day)) return whole();
  auto archived = index_.days_.find(day);
  const IndexedFile& live = index_.live_;
  bool live_has_day = std::any_of(live.blocks.begin(), live.blocks.end(), [&](const IndexBlock& b) {
    return std::binary_search(b.days.begin(), b.days.end(), day);
  });
  std::vector<Post> tail;  // the live log's posts of the day beyond the index
  for (const Post& p : live_tail_)
    if (fileio::day_of(p.sec) == day) tail.push_back(p);
  if (archived != index_.days_.end()) {
    if (!live_has_day && tail.empty()) {
      if (!read_candidates(fileio::day_file(index_.data_dir_, day), archived->second, day, -1, take)) whole();
      return;
    }
    // An archived day that current.dat also has posts of (the last posts it
    // keeps, or late ones): the exact source merges the two, and is asked
    // whenever either side may hold a match.
    auto may_hold = [&](const IndexedFile& f) {
      return std::any_of(f.blocks.begin(), f.blocks.end(),
                         [&](const IndexBlock& b) { return in_candidate(b, day); });
    };
    bool tail_match =
        std::any_of(tail.begin(), tail.end(), [&](const Post& p) { return matches(p, query_); });
    if (tail_match || may_hold(archived->second) || may_hold(live)) whole();
    return;
  }
  // A day only the live log has: the lines beyond the index are the newest.
  // (read from the file checked when this was built, whatever replaced it since).
  if (!tail.empty() && !take(tail)) return;
  if (live_has_day) (void)read_candidates(live_path_, live, day, live_fd_.get(), take);
}

std::vector<Post> IndexedDays::posts(Date day) { return join_pieces(*this, day); }

}  // namespace chaton::search
