// Search: full-text search of one room's whole history (search?q=;
// docs/PROTOCOL.md, "Search").
//
// A query is split into terms: words separated by white space (ASCII or the
// ideographic space U+3000), or "a quoted phrase" taken as one term. A post
// matches when every term occurs in its text or its nickname, in any order,
// as a substring, ignoring case. Substrings rather than whole words, so a
// query in a language written without spaces (Japanese) finds what it should.
//
// Case is folded the way Unicode says: terms, texts and nicknames are all
// put in Unicode's NFKC_Casefold form (ICU's "nfkc_cf" Normalizer2), that
// is full case folding with compatibility normalization. So ß matches ss
// and SS, Ș matches ș, TIẾNG VIỆT matches tiếng việt whether its letters
// are precomposed or decomposed, fullwidth ＡＢＣ matches abc, the ligature
// ﬁ matches fi, and final ς matches σ; default-ignorable characters (soft
// hyphen, zero-width space) are dropped. Accents stay significant: e does
// not match é (a search for a word finds that word, not its unaccented
// look-alikes), and Turkish dotted İ and dotless ı fold by Unicode's
// default rules, not Turkish ones (İ is i with a combining dot above). A folded term never matches in the middle of a
// character, since UTF-8 is self-synchronizing and both sides are folded
// alike. Pure ASCII (the common case) takes a fast path: its fold is its
// lowercase. The fold may change the length (ß is ss, ＡＢＣ is abc), so
// the highlighter maps a match back to the original text through
// FoldedText.
//
// Days are scanned newest first through a DaySource (RoomDays over a Room,
// in endpoints/page_data.h; IndexedDays, in search_index.h, which hands on
// only the posts the room's search index cannot rule out; or a test
// double), posts within a day newest first; results are paged by page number with kPageSize hits a page. The
// scan stops as soon as a page is full and it is known whether another one follows.
//
// Pure functions over the DaySource; thread-safe as long as the source is.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "messages/post.h"
#include "util/civil_time.h"

namespace chaton::search {

inline constexpr size_t kPageSize = 20;        // hits on one page of results
inline constexpr size_t kMaxPage = 500;        // deepest page served
inline constexpr size_t kMaxTerms = 8;         // terms kept from a query
inline constexpr size_t kMaxQueryBytes = 256;  // longer queries are cut (on a character boundary)
// How long one search may scan; then it answers with what it found so far.
inline constexpr std::chrono::seconds kSearchTimeBudget{10};
inline constexpr size_t kPostsBetweenChecks = 4096;  // posts scanned between two budget checks

struct Query {
  std::vector<std::string> terms;  // folded, distinct, non-empty
  bool empty() const { return terms.empty(); }
};

// Splits, folds and de-duplicates; a term that folds to nothing (a soft
// hyphen alone) is dropped. Invalid UTF-8 is repaired first.
Query parse_query(std::string_view q);

// The case fold described above: NFKC_Casefold. Bytes that are not valid
// UTF-8 are kept as they are.
std::string fold_case(std::string_view s);

// Which fold fold_case() is: 1 was the length-preserving fold of before,
// 2 is NFKC_Casefold. Give it a new number whenever what fold_case()
// returns changes for any input: what was stored folded by another
// version is folded again (postgres/pg_search.h, which also needs a schema
// migration then; search_index.h's file version follows it).
inline constexpr int kFoldVersion = 2;

// While `fail` is true, fold_case() and FoldedText behave as when ICU
// fails on a text (not expected): ASCII lowercased, the rest kept as it
// is, and an error logged the first time. Passing true also forgets that
// it was logged. For tests only.
void fail_icu_folds_for_testing(bool fail);

// A text's fold (fold_case) and, for each byte of it, the bytes of the text
// it came from, so that a match in the fold can be marked on the text.
// A character that folds unchanged maps byte for byte; any other part maps
// whole: what ICU changes at once, from one normalization boundary to the
// next (a letter and its combining marks, ß, a fullwidth letter).
// A value; thread-safe.
class FoldedText {
 public:
  explicit FoldedText(std::string_view text);
  const std::string& folded() const { return folded_; }
  // The bytes [first, second) of the text that folded bytes [begin, end)
  // came from (begin < end <= folded().size()): whole characters.
  std::pair<size_t, size_t> source(size_t begin, size_t end) const {
    return {from_[begin], to_[end - 1]};
  }

 private:
  std::string folded_;
  std::vector<size_t> from_, to_;  // folded byte i came from text bytes [from_[i], to_[i])
};

// True when every term occurs in the post's text or nickname.
bool matches(const Post& post, const Query& query);

// `html` with every occurrence of a term inside a text node wrapped in
// <mark>…</mark>. Tags and attributes are never touched; an entity counts as
// the character it stands for and is never split; text inside an element
// whose class is "timestamp" or "permalink-anchor" is left alone.
std::string highlight(std::string_view html, const Query& query);

// Where the days come from.
class DaySource {
 public:
  virtual ~DaySource() = default;
  // Every day that has posts, newest first.
  virtual std::vector<Date> days() = 0;
  // That day's posts, oldest first (empty when it has none after all).
  virtual std::vector<Post> posts(Date day) = 0;
  // The same posts in pieces, for a scan that may stop early: `take` is
  // given the newest piece first, each piece oldest first (so the pieces,
  // last to first, are posts(day)), until it returns false. By default one
  // piece, posts(day).
  using Take = std::function<bool(std::vector<Post>& piece)>;
  virtual void pieces(Date day, const Take& take) {
    std::vector<Post> all = posts(day);
    take(all);
  }
};

// A day's posts, oldest first, from its pieces (for a DaySource whose
// pieces() is its real reader and whose posts() is the pieces joined).
std::vector<Post> join_pieces(DaySource& source, Date day);

struct Hit {
  Date day;
  Post post;
};

struct Results {
  std::vector<Hit> hits;   // newest first
  size_t page = 1;         // 1-based, as asked (clamped to 1..kMaxPage)
  bool has_more = false;   // another page follows
  bool partial = false;    // the time budget ran out: older days were not scanned
  bool cancelled = false;  // the client went away: the results mean nothing
};

// Raised when a search's client went away; the scan stops at its next check.
using StopFlag = std::atomic<bool>;

// When a scan must stop. Both are checked before each day is read and every
// kPostsBetweenChecks posts within a day.
struct Budget {
  const StopFlag* cancelled = nullptr;  // null: never
  std::function<bool()> out_of_time;    // empty: never
};

// An out_of_time for a Budget: true once `budget` has passed (steady clock).
std::function<bool()> deadline_after(std::chrono::steady_clock::duration budget);

// Page `page` (1-based) of the posts matching `query`, newest first.
// An empty query finds nothing. A scan stopped by `budget` returns what it
// found so far with `partial` (out of time) or `cancelled` set, and no
// `has_more`.
Results find(DaySource& source, const Query& query, size_t page, size_t page_size = kPageSize,
             const Budget& budget = {});

}  // namespace chaton::search
