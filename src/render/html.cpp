// Rendering posts as HTML (docs/PROTOCOL.md, "Rendering"): entry ids,
// permalinks, the per-post structure with header grouping, and the text
// renderer that escapes everything and turns http(s) URLs into links, inline
// images and video embeds. The URL finder is a hand-written linear scanner.

#include "render/html.h"

#include <cstdlib>

#include "util/civil_time.h"
#include "util/text.h"

namespace chaton {

namespace {

constexpr int kMinUsecHexDigits = 2;
constexpr size_t kMinVideoIdLength = 6;
constexpr size_t kMaxVideoIdLength = 20;
constexpr int kNicovideoWidth = 312;
constexpr int kNicovideoHeight = 176;

constexpr std::string_view kSchemes[] = {"http://", "https://"};
constexpr std::string_view kTrailingPunctuation = ".,;:!?'";
constexpr std::string_view kImageExtensions[] = {".jpg", ".jpeg", ".gif", ".png", ".webp"};
constexpr std::string_view kYoutubeHosts[] = {"youtube.com", "www.youtube.com", "m.youtube.com"};
constexpr std::string_view kYoutuBeHost = "youtu.be";
constexpr std::string_view kNicovideoHosts[] = {"nicovideo.jp", "www.nicovideo.jp"};
constexpr std::string_view kLinkAttributes = R"(" rel="nofollow noopener" target="_blank" class=")";
constexpr std::string_view kYoutubeEmbedBase = "https://www.youtube-nocookie.com/embed/";
constexpr std::string_view kNicovideoEmbedBase = "https://embed.nicovideo.jp/watch/";

// ---- small character helpers ----

char to_lower_ascii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool ends_with_ci(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && starts_with_ci(s.substr(s.size() - suffix.size()), suffix);
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool is_alnum(char c) { return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// True for bytes that end a URL: whitespace, other control characters, and
// the characters that could break out of an attribute or element.
bool ends_url(char ch) {
  auto c = static_cast<unsigned char>(ch);
  return c <= 0x20 || c == 0x7f || ch == '"' || ch == '<' || ch == '>';
}

// ---- URL structure ----

// The parts of an http(s) URL that the classifiers look at.
struct UrlParts {
  std::string host;        // lowercase, without userinfo and port
  std::string_view path;   // from the first '/' up to '?' or '#', may be empty
  std::string_view query;  // after '?' up to '#', may be empty
};

UrlParts split_url(std::string_view url, size_t scheme_len) {
  UrlParts parts;
  std::string_view rest = url.substr(scheme_len);
  size_t authority_end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, authority_end);
  if (size_t at = authority.rfind('@'); at != std::string_view::npos) authority.remove_prefix(at + 1);
  if (size_t colon = authority.find(':'); colon != std::string_view::npos)
    authority = authority.substr(0, colon);
  parts.host.reserve(authority.size());
  for (char c : authority) parts.host.push_back(to_lower_ascii(c));
  if (authority_end == std::string_view::npos) return parts;

  std::string_view tail = rest.substr(authority_end);
  size_t fragment = tail.find('#');
  if (fragment != std::string_view::npos) tail = tail.substr(0, fragment);
  size_t question = tail.find('?');
  parts.path = tail.substr(0, question);
  if (question != std::string_view::npos) parts.query = tail.substr(question + 1);
  return parts;
}

template <size_t N>
bool is_one_of(std::string_view host, const std::string_view (&hosts)[N]) {
  for (std::string_view h : hosts)
    if (host == h) return true;
  return false;
}

bool is_video_id(std::string_view id) {
  if (id.size() < kMinVideoIdLength || id.size() > kMaxVideoIdLength) return false;
  for (char c : id)
    if (!is_alnum(c) && c != '_' && c != '-') return false;
  return true;
}

// The first path segment after `prefix`, or empty when the path does not
// start with it.
std::string_view segment_after(std::string_view path, std::string_view prefix) {
  if (!path.starts_with(prefix)) return {};
  std::string_view rest = path.substr(prefix.size());
  return rest.substr(0, rest.find('/'));
}

// The value of the `v` parameter in a query string, or empty.
std::string_view query_v(std::string_view query) {
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view param = query.substr(0, amp);
    if (param.starts_with("v=")) return param.substr(2);
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return {};
}

// The YouTube video id of a watch, youtu.be or shorts URL, or empty.
std::string_view youtube_id(const UrlParts& u) {
  std::string_view id;
  if (is_one_of(u.host, kYoutubeHosts)) {
    if (u.path == "/watch")
      id = query_v(u.query);
    else
      id = segment_after(u.path, "/shorts/");
  } else if (u.host == kYoutuBeHost) {
    id = segment_after(u.path, "/");
  }
  return is_video_id(id) ? id : std::string_view{};
}

// The niconico id ("sm" followed by digits) of a watch URL, or empty.
std::string_view nicovideo_id(const UrlParts& u) {
  if (!is_one_of(u.host, kNicovideoHosts)) return {};
  std::string_view id = segment_after(u.path, "/watch/");
  if (id.size() < 3 || !id.starts_with("sm")) return {};
  for (char c : id.substr(2))
    if (!is_digit(c)) return {};
  return id;
}

bool is_image_path(std::string_view path) {
  for (std::string_view ext : kImageExtensions)
    if (ends_with_ci(path, ext)) return true;
  return false;
}

// ---- emitting ----

void append_anchor_open(std::string& out, std::string_view url, std::string_view css_class) {
  out += "<a href=\"";
  append_html_escaped(out, url);
  out += kLinkAttributes;
  out += css_class;
  out += "\">";
}

void append_plain_link(std::string& out, std::string_view url) {
  append_anchor_open(out, url, "link-default");
  append_html_escaped(out, url);
  out += "</a>";
}

// The last segment of a URL's path: what an image's alt text names.
std::string_view file_name(std::string_view path) { return path.substr(path.rfind('/') + 1); }

int hex_value(char c) {
  if (is_digit(c)) return c - '0';
  char l = to_lower_ascii(c);
  return l >= 'a' && l <= 'f' ? l - 'a' + 10 : -1;
}

// A file name as a reader would write it ("cat%20nap.png" -> "cat nap.png"):
// percent-decoded where that gives UTF-8 text without control characters;
// otherwise (a stray '%', bytes that are not UTF-8) as it is.
std::string readable_file_name(std::string_view name) {
  if (name.find('%') == std::string_view::npos) return std::string(name);
  std::string out;
  out.reserve(name.size());
  for (size_t i = 0; i < name.size(); ++i) {
    if (name[i] != '%') {
      out.push_back(name[i]);
      continue;
    }
    int hi = i + 2 < name.size() ? hex_value(name[i + 1]) : -1;
    int lo = hi >= 0 ? hex_value(name[i + 2]) : -1;
    if (lo < 0) return std::string(name);
    auto byte = static_cast<unsigned char>(hi * 16 + lo);
    if (byte < 0x20 || byte == 0x7f) return std::string(name);
    out.push_back(static_cast<char>(byte));
    i += 2;
  }
  return repair_utf8(out) == out ? out : std::string(name);
}

// Alt text that says what the image is without reading out its URL:
// "Image posted by NICK: cat nap.png", or "Image: cat nap.png" without a nick.
void append_image_link(std::string& out, std::string_view url, std::string_view path, std::string_view nick) {
  append_anchor_open(out, url, "link-image");
  out += "<img src=\"";
  append_html_escaped(out, url);
  out += "\" alt=\"Image";
  if (!nick.empty()) {
    out += " posted by ";
    append_html_escaped(out, nick);
  }
  out += ": ";
  append_html_escaped(out, readable_file_name(file_name(path)));
  out += "\" class=\"inline-image\" loading=\"lazy\"></a>";
}

void append_youtube_embed(std::string& out, std::string_view id, const RenderOptions& opts) {
  out += "<iframe class=\"youtube\" width=\"";
  out += std::to_string(opts.embed_youtube_width);
  out += "\" height=\"";
  out += std::to_string(opts.embed_youtube_height);
  out += "\" src=\"";
  out += kYoutubeEmbedBase;
  append_html_escaped(out, id);
  out +=
      "\" title=\"YouTube video\" allow=\"accelerometer; encrypted-media; gyroscope; "
      "picture-in-picture\" allowfullscreen loading=\"lazy\"></iframe>";
}

void append_nicovideo_embed(std::string& out, std::string_view id) {
  out += "<iframe class=\"nicovideo\" width=\"";
  out += std::to_string(kNicovideoWidth);
  out += "\" height=\"";
  out += std::to_string(kNicovideoHeight);
  out += "\" src=\"";
  out += kNicovideoEmbedBase;
  append_html_escaped(out, id);
  out += "\" title=\"niconico video\" loading=\"lazy\"></iframe>";
}

void append_url(std::string& out, std::string_view url, size_t scheme_len, const RenderOptions& opts,
                std::string_view nick) {
  UrlParts parts = split_url(url, scheme_len);
  if (std::string_view id = youtube_id(parts); !id.empty()) {
    append_plain_link(out, url);
    append_youtube_embed(out, id, opts);
  } else if (std::string_view nico = nicovideo_id(parts); !nico.empty()) {
    append_plain_link(out, url);
    append_nicovideo_embed(out, nico);
  } else if (is_image_path(parts.path)) {
    append_image_link(out, url, parts.path, nick);
  } else {
    append_plain_link(out, url);
  }
}

// ---- scanning ----

// Length of the http:// or https:// prefix at the start of s, or 0.
size_t scheme_length(std::string_view s) {
  for (std::string_view scheme : kSchemes)
    if (starts_with_ci(s, scheme)) return scheme.size();
  return 0;
}

// Length of the URL that starts at the beginning of s (which starts with a
// scheme of scheme_len bytes) once trailing punctuation is dropped; 0 when
// nothing is left after the scheme.
size_t url_length(std::string_view s, size_t scheme_len) {
  size_t end = scheme_len;
  size_t open_parens = 0, close_parens = 0;
  while (end < s.size() && !ends_url(s[end])) {
    open_parens += s[end] == '(';
    close_parens += s[end] == ')';
    ++end;
  }
  while (end > scheme_len) {
    char last = s[end - 1];
    if (kTrailingPunctuation.find(last) != std::string_view::npos) {
      --end;
    } else if (last == ')' && close_parens > open_parens) {
      --close_parens;
      --end;
    } else {
      break;
    }
  }
  return end > scheme_len ? end : 0;
}

bool is_scheme_start(char c) { return c == 'h' || c == 'H'; }

// ---- posts ----

bool same_author_block(const Post& prev, const Post& cur) {
  return prev.nick == cur.nick && prev.ip == cur.ip && std::llabs(cur.sec - prev.sec) < kHeaderGroupSeconds;
}

// ` href="PERMALINK" target="_parent"`, then ` aria-label="Permalink to
// the post by NICK at STAMP"`.
void append_permalink_attributes(std::string& out, const Post& p, std::string_view link,
                                 std::string_view stamp, bool in_tab_order) {
  out += "href=\"";
  append_html_escaped(out, link);
  out += in_tab_order ? "\" target=\"_parent\" aria-label=\"Permalink to the post by "
                      : "\" target=\"_parent\" tabindex=\"-1\" aria-label=\"Permalink to the post by ";
  append_html_escaped(out, p.nick);
  out += " at ";
  append_html_escaped(out, stamp);
  out += "\"";
}

// The nick (coloured by its class), then the time: machine-readable in
// datetime, the UTC form as text (the room's script shows it in the
// reader's time zone). The time is the link to the permalink of the post
// it heads: the one tab stop of a run of posts.
void append_header(std::string& out, const Post& p, std::string_view link, std::string_view stamp) {
  out += "<div class=\"entry-header\"><span class=\"chatter nick-c";
  out += std::to_string(nick_colour(p.nick));
  out += "\">";
  append_html_escaped(out, p.nick);
  out += "</span><span class=\"timestamp\"><a class=\"time-link\" ";
  append_permalink_attributes(out, p, link, stamp, true);
  out += "><time datetime=\"";
  out += format_iso_timestamp(p.sec);
  out += "\">";
  append_html_escaped(out, stamp);
  out += "</time></a></span></div>";
}

// Every post has its permalink, named after the post and out of the tab
// order (a busy room would otherwise put dozens of tab stops before the
// message box; the keyboard reaches a run's first post by its header).
void append_post(std::string& out, const Post& p, bool with_header, const RenderOptions& opts) {
  std::string stamp = format_timestamp(p.sec);
  std::string link = permalink(opts.room_url, p.sec, p.usec);
  if (with_header) append_header(out, p, link, stamp);
  std::string id = entry_id(p.sec, p.usec);
  out += "<a class=\"permalink-anchor\" id=\"anchor-";
  append_html_escaped(out, id);
  out += "\" ";
  append_permalink_attributes(out, p, link, stamp, false);
  out += ">#</a>";
  out += render_entry_text(p.text, id, opts, p.nick);
}

}  // namespace

std::string entry_id(int64_t sec, int64_t usec) {
  return "entry-" + to_hex(static_cast<uint64_t>(sec)) + "-" +
         to_hex(static_cast<uint64_t>(usec), kMinUsecHexDigits);
}

std::string permalink(std::string_view room_url, int64_t sec, int64_t usec) {
  std::string out(room_url);
  out += "a/";
  out += format_date_path(utc_from_seconds(sec).date);
  out += '#';
  out += entry_id(sec, usec);
  return out;
}

std::string render_entry_text(std::string_view text, std::string_view id, const RenderOptions& opts,
                              std::string_view nick) {
  bool multi_line = text.find('\n') != std::string_view::npos;
  std::string out = multi_line ? "<pre class=\"entry-multi\" id=\"" : "<div class=\"entry-single\" id=\"";
  append_html_escaped(out, id);
  out += multi_line ? "\">" : "\"><span>";
  out += render_text(text, opts, nick);
  out += multi_line ? "</pre>" : "</span></div>";
  return out;
}

int nick_colour(std::string_view nick) {
  return static_cast<int>(fnv1a64(nick) % static_cast<uint64_t>(kNickColours));
}

std::string render_text(std::string_view text, const RenderOptions& opts, std::string_view nick) {
  std::string out;
  out.reserve(text.size() + text.size() / 4);
  size_t plain_start = 0;
  size_t i = 0;
  while (i < text.size()) {
    size_t scheme_len = is_scheme_start(text[i]) ? scheme_length(text.substr(i)) : 0;
    size_t len = scheme_len ? url_length(text.substr(i), scheme_len) : 0;
    if (len == 0) {
      ++i;
      continue;
    }
    append_html_escaped(out, text.substr(plain_start, i - plain_start));
    append_url(out, text.substr(i, len), scheme_len, opts, nick);
    i += len;
    plain_start = i;
  }
  append_html_escaped(out, text.substr(plain_start));
  return out;
}

std::string render_posts(std::span<const Post> posts, const Post* previous, const RenderOptions& opts) {
  std::string out;
  const Post* prev = previous;
  for (const Post& p : posts) {
    bool with_header = prev == nullptr || !same_author_block(*prev, p);
    append_post(out, p, with_header, opts);
    prev = &p;
  }
  return out;
}

}  // namespace chaton
