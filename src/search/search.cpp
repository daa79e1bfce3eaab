// Search: see search.h. Query parsing, the case fold (ICU's NFKC_Casefold),
// matching, highlighting inside rendered HTML, and the newest-first scan.
#include "search/search.h"

#include <unicode/bytestream.h>
#include <unicode/edits.h>
#include <unicode/normalizer2.h>
#include <unicode/utypes.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <limits>
#include <map>
#include <utility>

#include "util/log.h"
#include "util/text.h"

namespace chaton::search {

namespace {

// ---- case folding ----

bool is_continuation(unsigned char c) { return (c & 0xC0) == 0x80; }

// ICU's NFKC_Casefold normalizer, made once (ICU keeps it for the life of
// the process; its methods are const and thread-safe). Null when ICU's data
// cannot be loaded: then only ASCII is folded, and that is logged once.
const icu::Normalizer2* nfkc_casefold() {
  static const icu::Normalizer2* const normalizer = [] {
    UErrorCode ec = U_ZERO_ERROR;
    const icu::Normalizer2* n = icu::Normalizer2::getNFKCCasefoldInstance(ec);
    if (U_FAILURE(ec)) {
      log_error(std::string("search: ICU's case folding is not available (") + u_errorName(ec) +
                "); only ASCII is folded");
      return static_cast<const icu::Normalizer2*>(nullptr);
    }
    return n;
  }();
  return normalizer;
}

// fold_into() behaves as when ICU fails (fail_icu_folds_for_testing), and
// whether such a failure was logged.
std::atomic<bool> icu_fails_for_testing{false};
std::atomic<bool> icu_failure_logged{false};

// The length of the ASCII run that `s` begins with.
size_t ascii_prefix(std::string_view s) {
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t word;
    std::memcpy(&word, s.data() + i, 8);
    if (word & 0x8080808080808080ull) break;
  }
  while (i < s.size() && static_cast<unsigned char>(s[i]) < 0x80) ++i;
  return i;
}

char ascii_lower(char c) {
  return static_cast<char>(c + (static_cast<unsigned char>(c - 'A') < 26 ? 'a' - 'A' : 0));
}

// Lowercases the ASCII letters of [p, end) in place (other bytes are left
// as they are); true when all of it was ASCII. Eight bytes at a time: in
// each byte b below 0x80, b + (0x80 - 'A') has its top bit set when b >= 'A',
// b + (0x80 - 'Z' - 1) when b > 'Z', and no sum carries into the next byte.
bool lower_ascii(char* p, char* end) {
  constexpr uint64_t k01 = 0x0101010101010101ull, k80 = 0x8080808080808080ull;
  uint64_t seen = 0;
  for (; end - p >= 8; p += 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    seen |= w;
    uint64_t low7 = w & ~k80;
    uint64_t upper = (low7 + (0x80 - 'A') * k01) & ~(low7 + (0x80 - 'Z' - 1) * k01) & ~w & k80;
    w |= upper >> 2;  // 0x80 >> 2 is 'a' - 'A'
    std::memcpy(p, &w, 8);
  }
  for (; p != end; ++p) {
    seen |= static_cast<unsigned char>(*p);
    *p = ascii_lower(*p);
  }
  return (seen & k80) == 0;
}

// The fold of `s` into `out` (empty). With `from` and `to` (empty), also,
// for each byte of the fold, the bytes of `s` it came from (see FoldedText).
//
// The ASCII run `s` begins with is lowercased here, as NFKC_Casefold maps
// ASCII (a unit test checks it against ICU); ICU folds the rest, from the
// run's last character on, since a combining mark after it may compose with
// it. Every ASCII character has a normalization boundary before it, so
// folding the two parts apart gives the fold of the whole.
void fold_into(std::string_view s, std::string& out, std::vector<size_t>* from, std::vector<size_t>* to) {
  const icu::Normalizer2* normalizer = nfkc_casefold();
  size_t ascii = ascii_prefix(s);
  // Bytes [0, here) are lowercased here, the rest goes to ICU.
  size_t here = ascii == s.size() || normalizer == nullptr ? s.size() : (ascii == 0 ? 0 : ascii - 1);
  // Bytes [begin, end) of s lowercased onto `out`, each from itself.
  auto lower_bytes = [&](size_t begin, size_t end) {
    size_t at = out.size();
    out.append(s.data() + begin, end - begin);
    (void)lower_ascii(out.data() + at, out.data() + out.size());
    if (from) {
      for (size_t i = begin; i < end; ++i) {
        from->push_back(i);
        to->push_back(i + 1);
      }
    }
  };
  lower_bytes(0, here);
  if (here == s.size()) return;

  std::string_view rest = s.substr(here);
  icu::StringByteSink<std::string> sink(&out);
  icu::Edits edits;
  UErrorCode ec = U_ZERO_ERROR;
  if (rest.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max())) ec = U_INDEX_OUTOFBOUNDS_ERROR;
  normalizer->normalizeUTF8(0, icu::StringPiece(rest.data(), static_cast<int32_t>(rest.size())), sink,
                            from ? &edits : nullptr, ec);
  if (icu_fails_for_testing.load(std::memory_order_relaxed)) ec = U_INTERNAL_PROGRAM_ERROR;
  if (U_FAILURE(ec)) {  // not expected: ASCII folded, the rest as it is
    // Logged once: results change (ß no longer finds ss), so it must show.
    if (!icu_failure_logged.exchange(true))
      log_error(std::string("search: ICU could not fold a text (") + u_errorName(ec) +
                "); such texts are folded as ASCII only, the rest kept as it is (logged once)");
    out.resize(here);
    lower_bytes(here, s.size());
    return;
  }
  if (!from) return;
  // What stayed the same maps byte for byte; what changed (one piece
  // between normalization boundaries at a time) maps whole.
  icu::Edits::Iterator it = edits.getFineIterator();
  while (it.next(ec) && U_SUCCESS(ec)) {
    size_t src = here + static_cast<size_t>(it.sourceIndex());
    size_t old_len = static_cast<size_t>(it.oldLength()), new_len = static_cast<size_t>(it.newLength());
    for (size_t k = 0; k < new_len; ++k) {
      from->push_back(it.hasChange() ? src : src + k);
      to->push_back(it.hasChange() ? src + old_len : src + k + 1);
    }
  }
  // Not expected either: edits that do not cover the fold. Whatever is
  // left maps to the whole rest.
  from->resize(out.size(), here);
  to->resize(out.size(), s.size());
}

}  // namespace

void fail_icu_folds_for_testing(bool fail) {
  if (fail) icu_failure_logged = false;
  icu_fails_for_testing = fail;
}

namespace {

// ---- query parsing ----

constexpr std::string_view kIdeographicSpace = "\xE3\x80\x80";

bool is_space_at(std::string_view s, size_t i, size_t* len) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
    *len = 1;
    return true;
  }
  if (s.substr(i, kIdeographicSpace.size()) == kIdeographicSpace) {
    *len = kIdeographicSpace.size();
    return true;
  }
  return false;
}

// Cuts s to at most `max` bytes without splitting a UTF-8 character.
std::string_view cut_utf8(std::string_view s, size_t max) {
  if (s.size() <= max) return s;
  size_t end = max;
  while (end > 0 && is_continuation(static_cast<unsigned char>(s[end]))) --end;
  return s.substr(0, end);
}

void add_term(Query& q, std::string_view raw) {
  std::string_view t = trim(raw);
  if (t.empty() || q.terms.size() >= kMaxTerms) return;
  std::string folded = fold_case(t);
  if (folded.empty()) return;  // only default-ignorable characters
  if (std::find(q.terms.begin(), q.terms.end(), folded) == q.terms.end())
    q.terms.push_back(std::move(folded));
}

// ---- matching ----

bool contains(std::string_view folded_haystack, std::string_view folded_needle) {
  return folded_haystack.find(folded_needle) != std::string_view::npos;
}

// ---- highlighting ----

// A text node decoded: `text` holds the characters, and character byte i
// came from html bytes [from[i], to[i]).
struct Decoded {
  std::string text;
  std::vector<size_t> from, to;
};

char entity_char(std::string_view name) {
  if (name == "amp") return '&';
  if (name == "lt") return '<';
  if (name == "gt") return '>';
  if (name == "quot") return '"';
  if (name == "#39" || name == "apos") return '\'';
  return '\0';  // some other entity: a character that matches nothing
}

Decoded decode_text(std::string_view html, size_t begin, size_t end) {
  Decoded d;
  size_t i = begin;
  while (i < end) {
    if (html[i] == '&') {
      size_t semi = html.find(';', i);
      if (semi != std::string_view::npos && semi < end && semi - i <= 10) {
        d.text.push_back(entity_char(html.substr(i + 1, semi - i - 1)));
        d.from.push_back(i);
        d.to.push_back(semi + 1);
        i = semi + 1;
        continue;
      }
    }
    d.text.push_back(html[i]);
    d.from.push_back(i);
    d.to.push_back(i + 1);
    ++i;
  }
  return d;
}

void append_highlighted_text(std::string& out, std::string_view html, size_t begin, size_t end,
                             const Query& query) {
  if (begin >= end) return;
  Decoded d = decode_text(html, begin, end);
  FoldedText folded(d.text);
  const std::string& f = folded.folded();
  // Marked character ranges of d.text [a, b): each match widened to the
  // whole characters it came from, then merged (two matches may come from
  // one character, as "m" and "z" from ㎒).
  std::vector<std::pair<size_t, size_t>> ranges;
  for (const auto& term : query.terms) {
    for (size_t at = f.find(term); at != std::string::npos; at = f.find(term, at + 1))
      ranges.push_back(folded.source(at, at + term.size()));
  }
  if (ranges.empty()) {
    out.append(html.substr(begin, end - begin));
    return;
  }
  std::sort(ranges.begin(), ranges.end());
  std::vector<std::pair<size_t, size_t>> merged;
  for (const auto& r : ranges) {
    if (!merged.empty() && r.first <= merged.back().second)
      merged.back().second = std::max(merged.back().second, r.second);
    else
      merged.push_back(r);
  }
  size_t pos = begin;
  for (const auto& [a, b] : merged) {
    size_t h_from = d.from[a], h_to = d.to[b - 1];
    out.append(html.substr(pos, h_from - pos));
    out += "<mark>";
    out.append(html.substr(h_from, h_to - h_from));
    out += "</mark>";
    pos = h_to;
  }
  out.append(html.substr(pos, end - pos));
}

// The element name of a tag ("<span ...>" -> "span"), lowercase ASCII.
std::string tag_name(std::string_view tag) {
  size_t i = 1;
  if (i < tag.size() && tag[i] == '/') ++i;
  std::string name;
  for (; i < tag.size(); ++i) {
    char c = tag[i];
    if (c == ' ' || c == '>' || c == '/' || c == '\t' || c == '\n') break;
    name.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
  }
  return name;
}

bool skips_highlight(std::string_view tag) {
  return tag.find("class=\"timestamp\"") != std::string_view::npos ||
         tag.find("class=\"permalink-anchor\"") != std::string_view::npos;
}

}  // namespace

std::string fold_case(std::string_view s) {
  std::string out(s);  // pure ASCII, the common case: one copy and one pass
  if (lower_ascii(out.data(), out.data() + out.size())) return out;
  out.clear();
  fold_into(s, out, nullptr, nullptr);
  return out;
}

FoldedText::FoldedText(std::string_view text) {
  folded_.reserve(text.size());
  from_.reserve(text.size());
  to_.reserve(text.size());
  fold_into(text, folded_, &from_, &to_);
}

Query parse_query(std::string_view raw) {
  std::string repaired = repair_utf8(cut_utf8(raw, kMaxQueryBytes));
  std::string_view s = repaired;
  Query q;
  size_t i = 0;
  while (i < s.size()) {
    size_t space = 0;
    if (is_space_at(s, i, &space)) {
      i += space;
      continue;
    }
    if (s[i] == '"') {  // a phrase, up to the closing quote or the end
      size_t close = s.find('"', i + 1);
      size_t end = close == std::string_view::npos ? s.size() : close;
      add_term(q, s.substr(i + 1, end - i - 1));
      i = close == std::string_view::npos ? s.size() : close + 1;
      continue;
    }
    size_t start = i;
    while (i < s.size() && !is_space_at(s, i, &space)) ++i;
    add_term(q, s.substr(start, i - start));
  }
  return q;
}

bool matches(const Post& post, const Query& query) {
  if (query.empty()) return false;
  std::string text = fold_case(post.text);
  std::string nick;  // folded only when a term is missing from the text
  for (const auto& term : query.terms) {
    if (contains(text, term)) continue;
    if (nick.empty()) nick = fold_case(post.nick);
    if (!contains(nick, term)) return false;
  }
  return true;
}

std::string highlight(std::string_view html, const Query& query) {
  std::string out;
  out.reserve(html.size() + 32);
  size_t i = 0;
  std::string skip_until;  // the closing tag that ends a skipped element
  while (i < html.size()) {
    if (html[i] == '<') {
      size_t close = html.find('>', i);
      size_t end = close == std::string_view::npos ? html.size() : close + 1;
      std::string_view tag = html.substr(i, end - i);
      if (skip_until.empty() && skips_highlight(tag)) {
        skip_until = "</" + tag_name(tag) + ">";
      } else if (!skip_until.empty() && tag.size() >= 2 && tag[1] == '/' &&
                 "</" + tag_name(tag) + ">" == skip_until) {
        skip_until.clear();
      }
      out.append(tag);
      i = end;
      continue;
    }
    size_t next = html.find('<', i);
    if (next == std::string_view::npos) next = html.size();
    if (skip_until.empty())
      append_highlighted_text(out, html, i, next, query);
    else
      out.append(html.substr(i, next - i));
    i = next;
  }
  return out;
}

// ---- the scan ----

std::function<bool()> deadline_after(std::chrono::steady_clock::duration budget) {
  auto deadline = std::chrono::steady_clock::now() + budget;
  return [deadline] { return std::chrono::steady_clock::now() >= deadline; };
}

namespace {

// True when the scan must stop now; says why in `r`.
bool must_stop(const Budget& budget, Results& r) {
  if (budget.cancelled && budget.cancelled->load()) {
    r.cancelled = true;
    return true;
  }
  if (budget.out_of_time && budget.out_of_time()) {
    r.partial = true;
    return true;
  }
  return false;
}

}  // namespace

Results find(DaySource& source, const Query& query, size_t page, size_t page_size, const Budget& budget) {
  Results r;
  r.page = std::clamp<size_t>(page, 1, kMaxPage);
  if (query.empty() || page_size == 0) return r;
  size_t skip = (r.page - 1) * page_size;
  size_t until_check = kPostsBetweenChecks;
  bool done = false;  // the page is full (and has_more known), or the budget stopped the scan
  for (Date day : source.days()) {
    if (must_stop(budget, r)) return r;
    source.pieces(day, [&](std::vector<Post>& posts) {
      for (auto it = posts.rbegin(); it != posts.rend(); ++it) {
        if (--until_check == 0) {
          until_check = kPostsBetweenChecks;
          if (must_stop(budget, r)) {
            done = true;
            return false;
          }
        }
        if (!matches(*it, query)) continue;
        if (skip > 0) {
          --skip;
          continue;
        }
        if (r.hits.size() == page_size) {
          r.has_more = true;
          done = true;
          return false;
        }
        r.hits.push_back(Hit{day, std::move(*it)});
      }
      return true;
    });
    if (done) return r;
  }
  return r;
}

std::vector<Post> join_pieces(DaySource& source, Date day) {
  std::vector<std::vector<Post>> got;  // newest piece first
  source.pieces(day, [&](std::vector<Post>& piece) {
    got.push_back(std::move(piece));
    return true;
  });
  std::vector<Post> out;
  for (auto it = got.rbegin(); it != got.rend(); ++it)
    out.insert(out.end(), std::make_move_iterator(it->begin()), std::make_move_iterator(it->end()));
  return out;
}

}  // namespace chaton::search
