// The room badge: see badge.h.
#include "pages/badge.h"

#include <algorithm>
#include <cmath>

#include "util/text.h"

namespace chaton::pages {

namespace {

constexpr int64_t kMinute = 60, kHour = 3600, kDay = 86400, kWeek = 7 * 86400;
constexpr size_t kMaxSvgNameChars = 40;  // a longer room name is cut with an ellipsis
constexpr int kSvgHeight = 20;
constexpr int kSvgPadding = 6;  // px on each side of a text

// The script badge's default look: a 150px box, the icon on the left, the
// name, the last update and the chatters on three lines beside it. A
// site's own rules for the same classes win (they come later or are more
// specific), as they did over the original's.
constexpr std::string_view kBadgeStyle =
    "<style type=\"text/css\">"
    ".chaton-badge{display:block;position:relative;overflow:hidden;width:150px;max-width:100%;"
    "min-height:45px;padding:5px;background:#fff;border:1px solid #ddd}"
    ".chaton-badge *{margin:0;padding:0;color:#000;text-align:left;font:10px sans-serif;"
    "text-decoration:none}"
    ".chaton-badge img{position:absolute;top:5px;left:5px;border:none}"
    ".chaton-badge span{display:block;padding-left:40px}"
    ".chaton-badge .chaton-room-name *{font-size:12px}"
    ".chaton-badge .chaton-last-update,.chaton-badge .chaton-chatters{padding-top:3px}"
    "</style>";

std::string count_of(int64_t n, std::string_view unit) {
  std::string s = std::to_string(n) + " ";
  s += unit;
  if (n != 1) s += "s";
  return s;
}

// Decodes one UTF-8 character at s[i] (valid UTF-8 assumed, as every stored
// string is repaired); returns its code point and advances i.
uint32_t next_code_point(std::string_view s, size_t& i) {
  auto c = static_cast<unsigned char>(s[i]);
  int len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : 4;
  uint32_t cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
  for (int k = 1; k < len && i + k < s.size(); ++k)
    cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
  i += static_cast<size_t>(len);
  return cp;
}

// An estimate of the width in px of `s` set in 11px Verdana / DejaVu Sans;
// the SVG's textLength makes the text fit the estimate exactly.
double text_width(std::string_view s) {
  double w = 0;
  for (size_t i = 0; i < s.size();) {
    uint32_t cp = next_code_point(s, i);
    if (cp >= 0x1100)
      w += 11.0;  // CJK and other wide scripts
    else if (std::string_view("ijl.,:;'|!I ").find(static_cast<char>(cp)) != std::string_view::npos &&
             cp < 0x80)
      w += 3.6;
    else if (cp >= 'A' && cp <= 'Z')
      w += 7.6;
    else if (cp == 'm' || cp == 'w' || cp == 'M' || cp == 'W')
      w += 9.5;
    else
      w += 6.6;
  }
  return w;
}

// XML text: escaped, with the characters XML 1.0 forbids dropped.
std::string xml_text(std::string_view s) {
  std::string clean;
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 && c != '\t' && c != '\n' && c != '\r') continue;
    clean.push_back(c);
  }
  return html_escape(clean);
}

std::string cut_chars(std::string_view s, size_t max_chars) {
  size_t i = 0, n = 0;
  while (i < s.size() && n < max_chars) {
    next_code_point(s, i);
    ++n;
  }
  if (i >= s.size()) return std::string(s);
  return std::string(s.substr(0, i)) + "\xE2\x80\xA6";  // …
}

}  // namespace

std::string time_ago(int64_t last_post, int64_t now) {
  if (last_post <= 0) return "no known updates";
  int64_t d = std::max<int64_t>(0, now - last_post);
  if (d < kMinute) return count_of(d, "second") + " ago";
  if (d < kHour) return count_of(d / kMinute, "minute") + " ago";
  if (d < kDay) return count_of(d / kHour, "hour") + " ago";
  if (d < kWeek) return count_of(d / kDay, "day") + " ago";
  return count_of(d / kWeek, "week") + " ago";
}

std::string chatters_text(size_t n) {
  if (n == 0) return "No chatters";
  if (n == 1) return "1 chatter";
  return std::to_string(n) + " chatters";
}

std::string badge_tooltip(const BadgeInfo& info) { return "Start chatting in " + info.name; }

std::string badge_markup(const BadgeInfo& info) {
  const std::string href = html_escape(info.room_url);
  const std::string tip = html_escape(badge_tooltip(info));
  std::string h = "<span class=\"chaton-badge\">";
  if (!info.icon_url.empty()) {
    h += "<a href=\"" + href + "\"><img alt=\"[icon]\" src=\"" + html_escape(info.icon_url) + "\" title=\"" +
         tip + "\" width=\"32\" height=\"32\"></a>";
  }
  h += "<span class=\"chaton-room-name\"><a href=\"" + href + "\" title=\"" + tip + "\">";
  h += html_escape(info.name);
  h += "</a></span><span class=\"chaton-last-update\">";
  h += html_escape(time_ago(info.last_post, info.now));
  h += "</span><span class=\"chaton-chatters\">";
  h += html_escape(chatters_text(info.chatters));
  h += "</span></span>";
  return h;
}

std::string badge_script(const BadgeInfo& info) {
  return "// Chaton badge for " + js_string_literal(info.name) +
         ": writes the room's badge where this script is included.\n"
         "document.write(" +
         js_string_literal(std::string(kBadgeStyle) + badge_markup(info)) + ");\n";
}

std::string js_string_literal(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\'':
        out += "\\'";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '<':
      case '>':
      case '&':
      case '/':
        out += "\\x";
        out += kHex[c >> 4];
        out += kHex[c & 15];
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out += "\\x";
          out += kHex[c >> 4];
          out += kHex[c & 15];
        } else if (c == 0xE2 && i + 2 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
                   (static_cast<unsigned char>(s[i + 2]) == 0xA8 ||
                    static_cast<unsigned char>(s[i + 2]) == 0xA9)) {
          out += static_cast<unsigned char>(s[i + 2]) == 0xA8 ? "\\u2028" : "\\u2029";
          i += 2;
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out += "\"";
  return out;
}

std::string badge_svg(const BadgeInfo& info) {
  std::string name = cut_chars(info.name, kMaxSvgNameChars);
  std::string value = chatters_text(info.chatters) + " \xC2\xB7 " + time_ago(info.last_post, info.now);
  int name_w = static_cast<int>(std::lround(text_width(name)));
  int value_w = static_cast<int>(std::lround(text_width(value)));
  int left = name_w + 2 * kSvgPadding;
  int right = value_w + 2 * kSvgPadding;
  int width = left + right;
  const char* color = info.chatters > 0 ? "#2b8a3e" : "#2f6fde";
  std::string label = xml_text(info.name + ": " + value);
  std::string w = std::to_string(width), l = std::to_string(left), r = std::to_string(right);
  std::string h = std::to_string(kSvgHeight);

  std::string s;
  s.reserve(1024);
  s += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + w + "\" height=\"" + h +
       "\" role=\"img\" aria-label=\"" + label + "\">";
  s += "<title>" + label + "</title>";
  s += "<linearGradient id=\"s\" x2=\"0\" y2=\"100%\"><stop offset=\"0\" stop-color=\"#fff\" "
       "stop-opacity=\".12\"/><stop offset=\"1\" stop-opacity=\".12\"/></linearGradient>";
  s += "<clipPath id=\"r\"><rect width=\"" + w + "\" height=\"" + h + "\" rx=\"4\"/></clipPath>";
  s += "<g clip-path=\"url(#r)\"><rect width=\"" + l + "\" height=\"" + h + "\" fill=\"#444\"/>";
  s += "<rect x=\"" + l + "\" width=\"" + r + "\" height=\"" + h + "\" fill=\"" + color + "\"/>";
  s += "<rect width=\"" + w + "\" height=\"" + h + "\" fill=\"url(#s)\"/></g>";
  s += "<g fill=\"#fff\" font-family=\"Verdana,DejaVu Sans,Geneva,sans-serif\" font-size=\"11\">";
  auto text = [&](int x, int width_px, const std::string& t) {
    std::string tl = std::to_string(width_px);
    std::string xs = std::to_string(x);
    s += "<text x=\"" + xs + "\" y=\"15\" fill=\"#010101\" fill-opacity=\".3\" textLength=\"" + tl +
         "\" lengthAdjust=\"spacingAndGlyphs\">" + xml_text(t) + "</text>";
    s += "<text x=\"" + xs + "\" y=\"14\" textLength=\"" + tl + "\" lengthAdjust=\"spacingAndGlyphs\">" +
         xml_text(t) + "</text>";
  };
  text(kSvgPadding, name_w, name);
  text(left + kSvgPadding, value_w, value);
  s += "</g></svg>\n";
  return s;
}

}  // namespace chaton::pages
