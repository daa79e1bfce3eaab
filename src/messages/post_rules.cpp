// The rules a submitted post must meet before it is stored (docs/PROTOCOL.md,
// "Posting" and "Differences from the original"):
// UTF-8 repair, control character removal, trimming, and the length limits,
// which are reported as errors instead of cutting the text silently.
#include "messages/post_rules.h"

#include "util/text.h"

namespace chaton {

namespace {

constexpr unsigned char kDel = 0x7f;
constexpr unsigned char kC1Lead = 0xC2;  // U+0080..U+00BF are 0xC2 0x80..0xBF
constexpr unsigned char kC1LastTrail = 0x9F;

bool is_kept_c0(unsigned char c) { return c == '\t' || c == '\n' || c == '\r'; }

// Removes the control characters of valid UTF-8 (C0, DEL and C1), keeping
// tab, newline and carriage return.
std::string remove_controls(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if ((c < 0x20 && !is_kept_c0(c)) || c == kDel) continue;
    if (c == kC1Lead && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) <= kC1LastTrail) {
      ++i;  // skip both bytes of a C1 control
      continue;
    }
    out.push_back(s[i]);
  }
  return out;
}

// CRLF and a lone CR become LF.
std::string normalize_newlines(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\r') {
      out.push_back(s[i]);
      continue;
    }
    out.push_back('\n');
    if (i + 1 < s.size() && s[i + 1] == '\n') ++i;
  }
  return out;
}

std::string clean(std::string_view s) { return remove_controls(repair_utf8(s)); }

// A nickname is one line (docs/PROTOCOL.md "Differences from the original"):
// each line end (CR LF, CR or LF) and each tab becomes one space.
Result<std::string> normalize_nick(std::string_view raw, size_t limit) {
  std::string nick = normalize_newlines(clean(raw));
  for (char& c : nick)
    if (c == '\t' || c == '\n') c = ' ';
  std::string trimmed(trim(nick));
  if (trimmed.empty()) return Status(Errc::invalid, "nickname is empty");
  if (utf8_length(trimmed) > limit)
    return Status(Errc::invalid, "nickname is longer than " + std::to_string(limit) + " characters");
  return trimmed;
}

Result<std::string> normalize_text(std::string_view raw, size_t limit) {
  std::string text(trim(normalize_newlines(clean(raw))));
  if (text.empty()) return Status(Errc::invalid, "text is empty");
  if (utf8_length(text) > limit)
    return Status(Errc::too_large, "text is longer than " + std::to_string(limit) + " characters");
  return text;
}

}  // namespace

Result<Submission> normalize_submission(std::string_view nick, std::string_view text,
                                        const PostLimits& limits) {
  auto n = normalize_nick(nick, limits.nick_limit);
  if (!n) return n.status();
  auto t = normalize_text(text, limits.text_limit);
  if (!t) return t.status();
  return Submission{std::move(n).value(), std::move(t).value()};
}

}  // namespace chaton
