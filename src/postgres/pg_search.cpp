// PgSearchIndex: see pg_search.h; the columns and their indexes are schema
// migrations 2 and 4 (schema.cpp).
#include "postgres/pg_search.h"

#include <algorithm>
#include <deque>
#include <limits>

#include "postgres/pg_store.h"
#include "postgres/post_rows.h"
#include "util/log.h"

namespace chaton::postgres {

namespace {

// The days of the room that have posts, newest first: chaton_days, which
// the scan reads too (Store::days_in_month). $1 room id.
constexpr std::string_view kDays =
    "SELECT day - date '1970-01-01' FROM chaton_days WHERE room_id = $1 AND posts > 0 ORDER BY day DESC";

// The candidates arrive newest first, in chunks; the posts of each day are
// handed to find() as they come (see search::DaySource::pieces).
class CandidateDays final : public search::DaySource {
 public:
  CandidateDays(PgSearchIndex& index, const search::Query& query, search::DaySource& exact)
      : index_(index), query_(query), exact_(exact) {}

  std::vector<Date> days() override {
    auto d = index_.days();
    if (d) return std::move(d).value();
    failed(d.status());
    return exact_.days();
  }

  std::vector<Post> posts(Date day) override { return search::join_pieces(*this, day); }

  void pieces(Date day, const Take& take) override {
    if (failed_) return exact_.pieces(day, take);
    bool handed = false;
    for (;;) {
      // Candidates of a newer day find() did not ask for (a day that came
      // after days() was read) are not this search's.
      while (!buffer_.empty() && buffer_.front().day > day) buffer_.pop_front();
      if (buffer_.empty()) {
        if (end_) return;
        if (!fetch()) {
          // The database failed: this day from the exact source, unless
          // some of it was handed on already.
          if (failed_ && !handed) exact_.pieces(day, take);
          return;
        }
        continue;
      }
      if (buffer_.front().day < day) return;  // no candidate (left) on this day
      std::vector<Post> piece;
      while (!buffer_.empty() && buffer_.front().day == day) {
        piece.push_back(std::move(buffer_.front().post));
        buffer_.pop_front();
      }
      std::reverse(piece.begin(), piece.end());  // a piece is oldest first
      handed = true;
      if (!take(piece) || !buffer_.empty()) return;  // stopped, or an older day is next
    }
  }

 private:
  // The next chunk of candidates into buffer_; false when there were none
  // (end_ set) or the database failed (failed_ set).
  bool fetch() {
    auto got = index_.candidates(query_, before_, chunk_);
    if (!got) {
      failed(got.status());
      return false;
    }
    if (got->size() < chunk_) end_ = true;
    if (got->empty()) return false;
    before_ = got->back().seq;
    for (auto& c : *got) buffer_.push_back(std::move(c));
    chunk_ = std::min(chunk_ * 2, kMaxCandidateFetch);
    return true;
  }

  void failed(const Status& st) {
    log_warning("search: the database failed, reading the room's days instead: " + st.message());
    failed_ = true;
  }

  PgSearchIndex& index_;
  const search::Query& query_;
  search::DaySource& exact_;
  std::deque<PgSearchIndex::Candidate> buffer_;  // fetched, not yet handed on; newest first
  uint64_t before_ = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  size_t chunk_ = kFirstCandidateFetch;
  bool end_ = false;     // every candidate has been fetched
  bool failed_ = false;  // the database failed: the exact source from now on
};

}  // namespace

std::string folded_for_search(std::string_view nick, std::string_view text) {
  std::string out = search::fold_case(nick);
  out += '\n';
  out += search::fold_case(text);
  return out;
}

std::string fold_is_stale() {
  return "(folded IS NULL OR fold_version IS DISTINCT FROM " + std::to_string(kFoldVersion) + ")";
}

std::string like_containing(std::string_view term) {
  std::string out = "%";
  for (char c : term) {
    if (c == '\\' || c == '%' || c == '_') out += '\\';
    out += c;
  }
  out += '%';
  return out;
}

PgSearchIndex::PgSearchIndex(std::string url, std::string slug)
    : slug_(std::move(slug)), db_(std::move(url)) {}

Status PgSearchIndex::refresh(const search::StopFlag* cancelled) {
  if (room_id_ == 0) {
    auto r = db_.exec("SELECT id FROM chaton_rooms WHERE slug = $1", {slug_});
    if (!r) return r.status();
    if (r->rows() == 0) return Status(Errc::not_found, "room " + slug_ + " is not in the database");
    room_id_ = r->int64(0, 0);
  }
  auto deadline = std::chrono::steady_clock::now() + kBackfillTime;
  while (!(cancelled && cancelled->load()) && std::chrono::steady_clock::now() < deadline) {
    auto n = backfill(kBackfillBatch);
    if (!n) return n.status();
    if (*n < kBackfillBatch) break;
  }
  return Status::ok();
}

std::unique_ptr<search::DaySource> PgSearchIndex::narrow(const search::Query& query,
                                                         search::DaySource& exact) {
  return std::make_unique<CandidateDays>(*this, query, exact);
}

Result<std::vector<Date>> PgSearchIndex::days() {
  auto r = db_.exec(kDays, {num(room_id_)});
  if (!r) return r.status();
  std::vector<Date> out;
  for (int i = 0; i < r->rows(); ++i) out.push_back(civil_from_days(r->int64(i, 0)));
  return out;
}

Result<std::vector<PgSearchIndex::Candidate>> PgSearchIndex::candidates(const search::Query& query,
                                                                        uint64_t before, size_t max) {
  // A row without a current fold (pg_search.h) is a candidate whatever it
  // holds.
  std::string sql =
      "SELECT seq, sec, usec, nick, text, ip, day - date '1970-01-01' FROM chaton_posts "
      "WHERE room_id = $1 AND seq < $2 AND (" +
      fold_is_stale() + " OR (true";
  std::vector<PgParam> params = {num(room_id_), num(static_cast<int64_t>(before)),
                                 num(static_cast<int64_t>(max))};
  for (const std::string& term : query.terms) {
    params.emplace_back(like_containing(term));
    sql += " AND folded LIKE $" + std::to_string(params.size());
  }
  sql += ")) ORDER BY seq DESC LIMIT $3";
  auto r = db_.exec(sql, params);
  if (!r) return r.status();
  std::vector<Post> posts = posts_of(*r, false);
  std::vector<Candidate> out;
  out.reserve(posts.size());
  for (int i = 0; i < r->rows(); ++i)
    out.push_back(Candidate{static_cast<uint64_t>(r->int64(i, 0)), civil_from_days(r->int64(i, 6)),
                            std::move(posts[static_cast<size_t>(i)])});
  return out;
}

Result<size_t> PgSearchIndex::backfill(size_t max) {
  auto fail = [&](const Status& st) -> Result<size_t> {
    (void)db_.exec("ROLLBACK");
    return st;
  };
  if (auto r = db_.exec("BEGIN"); !r) return r.status();
  // Locked, so a moderation cannot renumber them before they are updated.
  // Rows another transaction holds (a moderation's) are skipped, so this
  // never waits on one and never deadlocks with it; a later search folds them.
  auto rows = db_.exec("SELECT seq, nick, text FROM chaton_posts WHERE room_id = $1 AND " + fold_is_stale() +
                           " ORDER BY seq LIMIT $2 FOR UPDATE SKIP LOCKED",
                       {num(room_id_), num(static_cast<int64_t>(max))});
  if (!rows) return fail(rows.status());
  if (rows->rows() > 0) {
    std::vector<PgParam> seqs, folded;
    for (int i = 0; i < rows->rows(); ++i) {
      seqs.emplace_back(std::string(rows->text(i, 0)));
      folded.emplace_back(folded_for_search(rows->text(i, 1), rows->text(i, 2)));
    }
    auto up = db_.exec(
        "UPDATE chaton_posts p SET folded = x.folded, fold_version = $4::smallint "
        "FROM unnest($2::bigint[], $3::text[]) AS x(seq, folded) WHERE p.room_id = $1 AND p.seq = x.seq",
        {num(room_id_), text_array(seqs), text_array(folded), num(int64_t{kFoldVersion})});
    if (!up) return fail(up.status());
  }
  if (auto r = db_.exec("COMMIT"); !r) return fail(r.status());
  return static_cast<size_t>(rows->rows());
}

}  // namespace chaton::postgres
