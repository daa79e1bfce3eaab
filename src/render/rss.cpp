// The room's RSS 2.0 feed (docs/PROTOCOL.md, "RSS"): channel data from the
// room, one item per post newest first, each with a permalink guid, an escaped
// HTML description, the same HTML in content:encoded (CDATA), and an RFC 822
// pubDate. Every string is cleaned of characters XML 1.0 does not allow before
// it is used.
// As in the original, an item's HTML is the post as a view shows it with
// "nick: " before the text (a <pre> when it has several lines), and its
// title is the first line of that without invisible characters.

#include "render/rss.h"

#include <algorithm>

#include <unicode/uchar.h>
#include <unicode/utf8.h>

#include "util/civil_time.h"
#include "util/text.h"

namespace chaton {

namespace {

constexpr std::string_view kXmlDeclaration = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n";
constexpr std::string_view kRssOpen =
    "<rss version=\"2.0\" xmlns:content=\"http://purl.org/rss/1.0/modules/content/\">\n";
constexpr std::string_view kCdataOpen = "<![CDATA[";
constexpr std::string_view kCdataClose = "]]>";
// "]]>" inside CDATA: end the section after "]]" and start a new one for ">".
constexpr std::string_view kCdataSplit = "]]]]><![CDATA[>";
// U+FFFE and U+FFFF, the non-characters XML 1.0 excludes, in UTF-8.
constexpr std::string_view kNonCharFFFE = "\xEF\xBF\xBE";
constexpr std::string_view kNonCharFFFF = "\xEF\xBF\xBF";

bool is_xml_forbidden_control(unsigned char c) { return c < 0x20 && c != '\t' && c != '\n' && c != '\r'; }

// s as valid UTF-8 without the characters XML 1.0 forbids.
std::string xml_clean(std::string_view s) {
  std::string repaired = repair_utf8(s);
  std::string out;
  out.reserve(repaired.size());
  std::string_view rest = repaired;
  while (!rest.empty()) {
    if (rest.starts_with(kNonCharFFFE) || rest.starts_with(kNonCharFFFF)) {
      rest.remove_prefix(kNonCharFFFE.size());
      continue;
    }
    if (!is_xml_forbidden_control(static_cast<unsigned char>(rest.front()))) out.push_back(rest.front());
    rest.remove_prefix(1);
  }
  return out;
}

// Characters a title must not show: controls (Cc) and the invisible format
// characters (Cf: zero-width space and joiners, BOM, bidi controls, soft
// hyphen, ...), by ICU's character database.
bool invisible_in_title(UChar32 c) {
  int8_t type = u_charType(c);
  return type == U_CONTROL_CHAR || type == U_FORMAT_CHAR;
}

// "nick: first line of text" without invisible characters; p is already
// XML-clean (so valid UTF-8).
std::string item_title(const Post& p) {
  std::string raw = p.nick + ": ";
  std::string_view text = p.text;
  raw += text.substr(0, text.find_first_of("\r\n"));
  std::string out;
  out.reserve(raw.size());
  const auto* bytes = reinterpret_cast<const uint8_t*>(raw.data());
  const auto length = static_cast<int32_t>(raw.size());
  for (int32_t i = 0; i < length;) {
    int32_t start = i;
    UChar32 c;
    U8_NEXT(bytes, i, length, c);
    if (c >= 0 && !invisible_in_title(c))
      out.append(raw, static_cast<size_t>(start), static_cast<size_t>(i - start));
  }
  return out;
}

void append_element(std::string& out, std::string_view name, std::string_view escaped_value) {
  out += '<';
  out += name;
  out += '>';
  out += escaped_value;
  out += "</";
  out += name;
  out += ">\n";
}

void append_text_element(std::string& out, std::string_view name, std::string_view value) {
  append_element(out, name, html_escape(value));
}

void append_cdata(std::string& out, std::string_view s) {
  out += kCdataOpen;
  size_t pos = 0;
  while (true) {
    size_t hit = s.find(kCdataClose, pos);
    if (hit == std::string_view::npos) break;
    out += s.substr(pos, hit - pos);
    out += kCdataSplit;
    pos = hit + kCdataClose.size();
  }
  out += s.substr(pos);
  out += kCdataClose;
}

void append_item(std::string& out, const Post& post, const RenderOptions& opts) {
  Post p = post;
  p.nick = xml_clean(post.nick);
  p.text = xml_clean(post.text);
  std::string link = permalink(opts.room_url, p.sec, p.usec);
  std::string html = render_entry_text(p.nick + ": " + p.text, entry_id(p.sec, p.usec), opts);

  out += "<item>\n";
  append_text_element(out, "title", item_title(p));
  append_text_element(out, "link", link);
  out += "<guid isPermaLink=\"true\">";
  append_html_escaped(out, link);
  out += "</guid>\n";
  append_text_element(out, "description", html);
  out += "<content:encoded>";
  append_cdata(out, html);
  out += "</content:encoded>\n";
  append_text_element(out, "pubDate", format_rfc822(p.sec));
  out += "</item>\n";
}

}  // namespace

std::string render_rss(const FeedInfo& info, std::span<const Post> posts, const RenderOptions& opts) {
  RenderOptions clean_opts = opts;
  clean_opts.room_url = xml_clean(opts.room_url);

  std::string out;
  out += kXmlDeclaration;
  out += kRssOpen;
  out += "<channel>\n";
  append_text_element(out, "title", xml_clean(info.title));
  append_text_element(out, "link", clean_opts.room_url);
  append_text_element(out, "description", xml_clean(info.description));
  if (!posts.empty()) {
    auto newest = std::max_element(posts.begin(), posts.end(),
                                   [](const Post& a, const Post& b) { return a.sec < b.sec; });
    append_text_element(out, "lastBuildDate", format_rfc822(newest->sec));
  }
  for (auto it = posts.rbegin(); it != posts.rend(); ++it) append_item(out, *it, clean_opts);
  out += "</channel>\n</rss>\n";
  return out;
}

}  // namespace chaton
