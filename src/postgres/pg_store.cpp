// PgStore: see pg_store.h; the tables are in schema.cpp and docs/SCALING.md.
#include "postgres/pg_store.h"

#include <algorithm>
#include <map>

#include "postgres/pg_search.h"
#include "postgres/post_rows.h"
#include "store/post_selector.h"
#include "util/civil_time.h"
#include "util/log.h"

namespace chaton::postgres {

namespace {

// Where a room's live window starts (docs/SCALING.md, "The live window"):
// the seq before today's first post, or kMinPostsKept before the newest,
// whichever is earlier. $1 room id, $2 its sequence, $3 kMinPostsKept, $4
// today as a day number.
constexpr std::string_view kWindowStart =
    "least($2::bigint - $3::bigint, coalesce((SELECT min(seq) - 1 FROM chaton_posts "
    "WHERE room_id = $1 AND day >= date '1970-01-01' + $4::integer), $2::bigint))";

// One statement, one transaction: see pg_store.h. $1 room id, $2 posts in
// the batch, $3 newest post time, $4..$8 the posts' columns as arrays, $9
// the slug for the notification, $10 the posts' folded nick and text for
// search (pg_search.h), $11 the version of that fold.
constexpr std::string_view kAppend = R"sql(
WITH r AS (
  UPDATE chaton_rooms SET sequence = sequence + $2::bigint, last_post = greatest(last_post, $3::bigint)
  WHERE id = $1::bigint RETURNING sequence),
p AS (
  SELECT t.sec, t.usec, t.nick, t.text, t.ip, t.folded, t.n,
         date '1970-01-01' + floor(t.sec / 86400.0)::integer AS day
  FROM unnest($4::bigint[], $5::integer[], $6::text[], $7::text[], $8::text[], $10::text[])
       WITH ORDINALITY AS t(sec, usec, nick, text, ip, folded, n)),
ins AS (
  INSERT INTO chaton_posts (room_id, seq, day, sec, usec, nick, text, ip, folded, fold_version)
  SELECT $1::bigint, r.sequence - $2::bigint + p.n, p.day, p.sec, p.usec, p.nick, p.text, p.ip, p.folded,
         $11::smallint
  FROM r, p),
d AS (
  INSERT INTO chaton_days (room_id, day, posts)
  SELECT $1::bigint, p.day, count(*) FROM r, p GROUP BY p.day
  ON CONFLICT (room_id, day) DO UPDATE SET posts = chaton_days.posts + excluded.posts)
SELECT r.sequence, pg_notify('chaton', $9 || ' ' || r.sequence) FROM r
)sql";

// A change stamp of this store: chaton_rooms.moderated, a count.
bool is_stamp(std::string_view s) {
  return !s.empty() && s.size() <= 18 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

Status PgStore::reported(const Status& st, std::string_view doing) const {
  // The details (the server's address, libpq's reason) go to the log; a
  // client is told what happened, not where.
  log_warning("room " + slug_ + ": " + std::string(doing) + ": " + st.message());
  if (st.code() == Errc::unavailable)
    return Status(Errc::unavailable, "the database is unreachable; try again later");
  return Status(st.code(), "the database failed while " + std::string(doing));
}

PgStore::PgStore(std::string url, std::string slug, std::string node, const Clock& clock)
    : slug_(std::move(slug)), node_(std::move(node)), clock_(clock), writer_(url), reader_(url) {}

PgStore::~PgStore() = default;

Result<int64_t> PgStore::room_id(PgConnection& db) {
  if (int64_t id = room_id_.load()) return id;
  // Two statements, not one: a registration that waited on another node's
  // (nodes starting at once on a fresh database) inserts nothing, and a
  // SELECT in the same statement would not see the other's row either,
  // its snapshot being from before that commit. The next statement's is not.
  auto r = db.exec("INSERT INTO chaton_rooms (slug) VALUES ($1) ON CONFLICT (slug) DO NOTHING RETURNING id",
                   {slug_});
  if (r && r->rows() == 0) r = db.exec("SELECT id FROM chaton_rooms WHERE slug = $1", {slug_});
  if (!r) return r.status();
  if (r->rows() == 0) return Status(Errc::io, "room " + slug_ + " could not be registered in the database");
  int64_t id = r->int64(0, 0);
  room_id_.store(id);
  return id;
}

Result<StoreSnapshot> PgStore::open() {
  std::lock_guard lock(writer_mu_);
  auto id = room_id(writer_);
  if (!id) return reported(id.status(), "opening the room");
  auto state = writer_.exec("SELECT sequence, last_post FROM chaton_rooms WHERE id = $1", {num(*id)});
  if (!state) return reported(state.status(), "opening the room");
  StoreSnapshot snap;
  snap.sequence = static_cast<uint64_t>(state->int64(0, 0));
  snap.last_post = state->int64(0, 1);
  int64_t today = day_number(utc_from_seconds(to_stamp(clock_.now()).sec).date);
  // Newest first, so the limit keeps the newest kMaxLivePosts.
  auto rows = writer_.exec("SELECT " + std::string(kPostColumns) +
                               " FROM chaton_posts WHERE room_id = $1 AND seq > " +
                               std::string(kWindowStart) + " ORDER BY seq DESC LIMIT $5",
                           {num(*id), num(static_cast<int64_t>(snap.sequence)), num(kMinPostsKept),
                            num(today), num(kMaxLivePosts)});
  if (!rows) return reported(rows.status(), "opening the room");
  snap.recent = posts_of(*rows, true);
  std::reverse(snap.recent.begin(), snap.recent.end());
  return snap;
}

Status PgStore::append(std::span<Post> batch) {
  if (batch.empty()) return Status::ok();
  std::vector<PgParam> secs, usecs, nicks, texts, ips, folded;
  int64_t newest = 0;
  for (const Post& p : batch) {
    secs.emplace_back(num(p.sec));
    usecs.emplace_back(num(p.usec));
    nicks.emplace_back(p.nick);
    texts.emplace_back(p.text);
    ips.emplace_back(p.ip);
    folded.emplace_back(folded_for_search(p.nick, p.text));
    newest = std::max(newest, p.sec);
  }
  std::lock_guard lock(writer_mu_);
  auto id = room_id(writer_);
  if (!id) return reported(id.status(), "storing posts");
  int64_t n = static_cast<int64_t>(batch.size());
  metrics::Timer commit(syncs());  // one statement, committed on its own: the store's sync
  auto r = writer_.exec(
      kAppend, {num(*id), num(n), num(newest), text_array(secs), text_array(usecs), text_array(nicks),
                text_array(texts), text_array(ips), slug_, text_array(folded), num(int64_t{kFoldVersion})});
  commit.done();
  if (!r) return reported(r.status(), "storing posts");
  if (r->rows() != 1) return Status(Errc::io, "room " + slug_ + " is missing from the database");
  uint64_t last = static_cast<uint64_t>(r->int64(0, 0));
  for (size_t i = 0; i < batch.size(); ++i) batch[i].seq = last - batch.size() + 1 + i;
  return Status::ok();
}

Status PgStore::writable() {
  std::lock_guard lock(writer_mu_);
  auto r = writer_.exec("SELECT 1");
  if (!r) return reported(r.status(), "checking the database");
  return Status::ok();
}

Result<std::vector<Post>> PgStore::read_after(uint64_t after, uint64_t through, size_t max) {
  std::lock_guard lock(writer_mu_);
  auto id = room_id(writer_);
  if (!id) return reported(id.status(), "reading other nodes' posts");
  auto r = writer_.exec(
      "SELECT " + std::string(kPostColumns) +
          " FROM chaton_posts WHERE room_id = $1 AND seq > $2 AND ($3::bigint = 0 OR seq <= $3::bigint) "
          "ORDER BY seq LIMIT $4",
      {num(*id), num(static_cast<int64_t>(after)), num(static_cast<int64_t>(through)),
       num(static_cast<int64_t>(max))});
  if (!r) return reported(r.status(), "reading other nodes' posts");
  return posts_of(*r, true);
}

void PgStore::record_num_chatters(size_t n) {
  std::lock_guard lock(writer_mu_);
  auto id = room_id(writer_);
  if (!id) return;
  auto r = writer_.exec(
      "INSERT INTO chaton_chatters (room_id, node, chatters, seen) VALUES ($1, $2, $3, now()) "
      "ON CONFLICT (room_id, node) DO UPDATE SET chatters = excluded.chatters, seen = excluded.seen",
      {num(*id), node_, num(static_cast<int64_t>(n))});
  if (!r) log_warning("room " + slug_ + ": cannot record the chatters count: " + r.status().message());
}

Status PgStore::announce_cids(std::span<const IssuedCid> cids) {
  if (cids.empty()) return Status::ok();
  std::vector<PgParam> list, numbering;
  list.reserve(cids.size());
  numbering.reserve(cids.size());
  for (const IssuedCid& c : cids) {
    list.emplace_back(num(c.cid));
    // The stamps this store gives are moderated's numbers: any other is not said.
    numbering.emplace_back(is_stamp(c.numbering) ? PgParam(c.numbering) : std::nullopt);
  }
  std::lock_guard lock(writer_mu_);
  auto id = room_id(writer_);
  if (!id) return reported(id.status(), "announcing clients");
  // The notice is "SLUG +CID" or "SLUG +CID NUMBERING" (postgres/notify_listener.h).
  auto r = writer_.exec(
      "WITH u AS (SELECT c, m::bigint AS m FROM unnest($2::bigint[], $4::text[]) AS u (c, m)), "
      "old AS (DELETE FROM chaton_cids WHERE room_id = $1 AND issued < now() - interval '1 day'), "
      "i AS (INSERT INTO chaton_cids (room_id, cid, issued, moderated) SELECT $1, c, now(), m FROM u "
      "ON CONFLICT (room_id, cid) DO UPDATE SET issued = excluded.issued, moderated = excluded.moderated) "
      "SELECT pg_notify('chaton', $3 || ' +' || c || coalesce(' ' || m, '')) FROM u",
      {num(*id), text_array(list), slug_, text_array(numbering)});
  if (!r) return reported(r.status(), "announcing clients");
  return Status::ok();
}

Result<std::optional<std::string>> PgStore::cid_known(int64_t cid) {
  std::lock_guard lock(writer_mu_);
  auto id = room_id(writer_);
  if (!id) return reported(id.status(), "asking about a client");
  auto r = writer_.exec(
      "SELECT moderated FROM chaton_cids WHERE room_id = $1 AND cid = $2 AND issued > now() - interval '1 "
      "day'",
      {num(*id), num(cid)});
  if (!r) return reported(r.status(), "asking about a client");
  if (r->rows() == 0) return std::optional<std::string>();
  return std::optional<std::string>(r->is_null(0, 0) ? std::string() : std::string(r->text(0, 0)));
}

size_t PgStore::chatters_elsewhere(std::chrono::seconds fresh) {
  std::lock_guard lock(writer_mu_);
  auto id = room_id(writer_);
  if (!id) return 0;
  auto r = writer_.exec(
      "SELECT coalesce(sum(chatters), 0) FROM chaton_chatters WHERE room_id = $1 AND node <> $2 "
      "AND seen > now() - $3::integer * interval '1 second'",
      {num(*id), node_, num(fresh.count())});
  if (!r) {
    log_warning("room " + slug_ + ": cannot read the other nodes' chatters: " + r.status().message());
    return 0;
  }
  return static_cast<size_t>(r->int64(0, 0));
}

Result<std::vector<Post>> PgStore::read_day(Date day) {
  std::lock_guard lock(reader_mu_);
  auto id = room_id(reader_);
  if (!id) return reported(id.status(), "reading a day");
  auto r = reader_.exec("SELECT " + std::string(kPostColumns) +
                            " FROM chaton_posts WHERE room_id = $1 AND day = " + std::string(kEpoch) +
                            " + $2::integer ORDER BY seq",
                        {num(*id), num(day_number(day))});
  if (!r) return reported(r.status(), "reading a day");
  if (r->rows() == 0) return Status(Errc::not_found, "no archive for " + format_date_path(day));
  return posts_of(*r, false);
}

std::vector<DayCount> PgStore::days_in_month(int year, int month) {
  std::lock_guard lock(reader_mu_);
  auto id = room_id(reader_);
  if (!id) return {};
  Date first{year, month, 1};
  Date next = month == 12 ? Date{year + 1, 1, 1} : Date{year, month + 1, 1};
  auto r = reader_.exec("SELECT day - " + std::string(kEpoch) +
                            ", posts FROM chaton_days WHERE room_id = $1 AND day >= " + std::string(kEpoch) +
                            " + $2::integer AND day < " + std::string(kEpoch) +
                            " + $3::integer AND posts > 0 ORDER BY day",
                        {num(*id), num(day_number(first)), num(day_number(next))});
  if (!r) {
    log_warning("room " + slug_ + ": " + r.status().message());
    return {};
  }
  std::vector<DayCount> out;
  for (int i = 0; i < r->rows(); ++i)
    out.push_back(DayCount{civil_from_days(r->int64(i, 0)), static_cast<uint64_t>(r->int64(i, 1))});
  return out;
}

std::vector<std::pair<int, int>> PgStore::months() {
  std::lock_guard lock(reader_mu_);
  auto id = room_id(reader_);
  if (!id) return {};
  auto r = reader_.exec(
      "SELECT DISTINCT extract(year FROM day)::integer AS y, extract(month FROM day)::integer AS m "
      "FROM chaton_days WHERE room_id = $1 AND posts > 0 ORDER BY y, m",
      {num(*id)});
  if (!r) {
    log_warning("room " + slug_ + ": " + r.status().message());
    return {};
  }
  std::vector<std::pair<int, int>> out;
  for (int i = 0; i < r->rows(); ++i)
    out.emplace_back(static_cast<int>(r->int64(i, 0)), static_cast<int>(r->int64(i, 1)));
  return out;
}

Result<ArchiveReport> PgStore::archive(Date today) {
  // Nothing moves: every day stays in the table. What the room's window
  // keeps is what open() would load now (docs/SCALING.md, "The live window").
  std::lock_guard lock(writer_mu_);
  auto id = room_id(writer_);
  if (!id) return reported(id.status(), "counting the live window");
  auto state = writer_.exec("SELECT sequence FROM chaton_rooms WHERE id = $1", {num(*id)});
  if (!state) return reported(state.status(), "counting the live window");
  auto r = writer_.exec(
      "SELECT count(*) FROM chaton_posts WHERE room_id = $1 AND seq > " + std::string(kWindowStart),
      {num(*id), std::string(state->text(0, 0)), num(kMinPostsKept), num(day_number(today))});
  if (!r) return reported(r.status(), "counting the live window");
  ArchiveReport report;
  report.kept_in_current = static_cast<size_t>(std::min<int64_t>(r->int64(0, 0), kMaxLivePosts));
  return report;
}

Result<ModerationReport> PgStore::remove_posts(const PostSelector& selector) {
  std::lock_guard lock(writer_mu_);
  auto id = room_id(writer_);
  if (!id) return reported(id.status(), "moderating");
  auto fail = [&](const Status& st) -> Result<ModerationReport> {
    (void)writer_.exec("ROLLBACK");
    return reported(st, "moderating");
  };
  if (auto r = writer_.exec("BEGIN"); !r) return fail(r.status());
  auto state = writer_.exec("SELECT sequence FROM chaton_rooms WHERE id = $1 FOR UPDATE", {num(*id)});
  if (!state) return fail(state.status());
  ModerationReport report;
  report.sequence_before = static_cast<uint64_t>(state->int64(0, 0));
  // The candidates, narrowed in SQL as far as the selector allows; the
  // selector itself decides (an address range is a predicate on the text).
  std::string where = "room_id = $1";
  std::vector<PgParam> params = {num(*id)};
  if (selector.entry) {
    where += " AND sec = $2 AND usec = $3";
    params.push_back(num(selector.entry->sec));
    params.push_back(num(selector.entry->usec));
  } else if (selector.addresses) {
    where += " AND ip IS NOT NULL AND sec >= $2";
    params.push_back(num(selector.since_unix.value_or(0)));
  } else {
    where += " AND false";
  }
  auto candidates =
      writer_.exec("SELECT " + std::string(kPostColumns) +
                       ", day - date '1970-01-01' FROM chaton_posts WHERE " + where + " ORDER BY seq",
                   params);
  if (!candidates) return fail(candidates.status());
  std::vector<Post> posts = posts_of(*candidates, true);
  std::vector<PgParam> seqs;
  std::map<int64_t, uint64_t> per_day;
  for (int i = 0; i < candidates->rows(); ++i) {
    if (!selector.matches(posts[static_cast<size_t>(i)])) continue;
    seqs.emplace_back(num(static_cast<int64_t>(posts[static_cast<size_t>(i)].seq)));
    ++per_day[candidates->int64(i, 6)];
  }
  if (seqs.empty()) {
    (void)writer_.exec("ROLLBACK");
    report.sequence_after = report.sequence_before;
    return report;
  }
  std::vector<PgParam> days, counts;
  for (auto [day, n] : per_day) {
    days.emplace_back(num(day));
    counts.emplace_back(num(static_cast<int64_t>(n)));
    report.removed_archived.push_back(DayCount{civil_from_days(day), n});
  }
  report.removed_posts = seqs.size();
  const std::string first = *seqs.front();
  const std::string k = num(static_cast<int64_t>(seqs.size()));
  const std::vector<std::pair<std::string, std::vector<PgParam>>> steps = {
      {"DELETE FROM chaton_posts WHERE room_id = $1 AND seq = ANY($2::bigint[])",
       {num(*id), text_array(seqs)}},
      // Renumbered through negative values: the key (room_id, seq) stays
      // unique at every row of the update.
      {"UPDATE chaton_posts p SET seq = -r.n FROM (SELECT seq, $2::bigint - 1 + row_number() OVER (ORDER BY "
       "seq) AS n "
       "FROM chaton_posts WHERE room_id = $1 AND seq >= $2::bigint) r WHERE p.room_id = $1 AND p.seq = r.seq",
       {num(*id), first}},
      {"UPDATE chaton_posts SET seq = -seq WHERE room_id = $1 AND seq < 0", {num(*id)}},
      {"UPDATE chaton_days d SET posts = d.posts - x.n FROM unnest($2::integer[], $3::bigint[]) AS x(day, n) "
       "WHERE d.room_id = $1 AND d.day = date '1970-01-01' + x.day",
       {num(*id), text_array(days), text_array(counts)}},
      {"DELETE FROM chaton_days WHERE room_id = $1 AND posts <= 0", {num(*id)}},
      {"UPDATE chaton_rooms SET sequence = sequence - $2::bigint, moderated = moderated + 1 WHERE id = $1",
       {num(*id), k}},
      {"SELECT pg_notify('chaton', $1)", {slug_}},
  };
  for (const auto& [sql, args] : steps)
    if (auto r = writer_.exec(sql, args); !r) return fail(r.status());
  if (auto r = writer_.exec("COMMIT"); !r) return fail(r.status());
  report.sequence_after = report.sequence_before - seqs.size();
  return report;
}

std::string PgStore::change_stamp() {
  std::lock_guard lock(writer_mu_);
  auto id = room_id(writer_);
  if (!id) return {};
  auto r = writer_.exec("SELECT moderated FROM chaton_rooms WHERE id = $1", {num(*id)});
  if (!r || r->rows() == 0) return {};
  return std::string(r->text(0, 0));
}

}  // namespace chaton::postgres
