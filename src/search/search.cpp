// Search: see search.h. Query parsing, the length-preserving case fold,
// matching, highlighting inside rendered HTML, and the newest-first scan.
#include "search/search.h"

#include <algorithm>
#include <map>
#include <utility>

#include "util/text.h"

namespace chaton::search {

namespace {

// ---- case folding ----

// The small letter of a code point below U+0800 (so both take two bytes in
// UTF-8), or the code point itself.
uint32_t fold_two_byte(uint32_t cp) {
  if (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7) return cp + 0x20;   // Latin-1
  if (cp >= 0x100 && cp <= 0x137) return cp | 1;                  // Latin Ext-A: even capital
  if (cp >= 0x139 && cp <= 0x148) return (cp & 1) ? cp + 1 : cp;  // odd capital
  if (cp >= 0x14A && cp <= 0x177) return cp | 1;
  if (cp == 0x178) return 0xFF;  // Ÿ
  if (cp >= 0x179 && cp <= 0x17E) return (cp & 1) ? cp + 1 : cp;
  if (cp >= 0x391 && cp <= 0x3A9 && cp != 0x3A2) return cp + 0x20;  // Greek
  if (cp >= 0x400 && cp <= 0x40F) return cp + 0x50;                 // Cyrillic Ѐ..Џ
  if (cp >= 0x410 && cp <= 0x42F) return cp + 0x20;                 // Cyrillic А..Я
  return cp;
}

bool is_continuation(unsigned char c) { return (c & 0xC0) == 0x80; }

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
  std::string folded = fold_case(d.text);
  // Marked character ranges [a, b), merged.
  std::vector<std::pair<size_t, size_t>> ranges;
  for (const auto& term : query.terms) {
    for (size_t at = folded.find(term); at != std::string::npos; at = folded.find(term, at + 1))
      ranges.emplace_back(at, at + term.size());
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
  std::string out(s);
  for (size_t i = 0; i < out.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(out[i]);
    if (c >= 'A' && c <= 'Z') {
      out[i] = static_cast<char>(c - 'A' + 'a');
    } else if ((c & 0xE0) == 0xC0 && i + 1 < out.size() &&
               is_continuation(static_cast<unsigned char>(out[i + 1]))) {
      uint32_t cp = ((c & 0x1Fu) << 6) | (static_cast<unsigned char>(out[i + 1]) & 0x3Fu);
      uint32_t lower = fold_two_byte(cp);
      if (lower != cp) {
        out[i] = static_cast<char>(0xC0 | (lower >> 6));
        out[i + 1] = static_cast<char>(0x80 | (lower & 0x3F));
      }
      ++i;
    }
  }
  return out;
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
