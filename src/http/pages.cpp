// Pages: see pages.h. Room names and URLs are escaped; a room description
// is the operator's HTML (spec A2) and is inserted as is.
#include "http/pages.h"

#include "util/civil_time.h"
#include "util/text.h"

namespace chaton::assets {
extern const char kChatonJs[];
extern const char kChatonCss[];
}  // namespace chaton::assets

namespace chaton::http {

namespace {

// FNV-1a, 64 bits: a stable content hash for the script's file name.
uint64_t content_hash(std::string_view s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

std::string ago(int64_t seconds) {
  if (seconds < 60) return std::to_string(seconds) + " seconds ago";
  if (seconds < 3600) return std::to_string(seconds / 60) + " minutes ago";
  if (seconds < 86400) return std::to_string(seconds / 3600) + " hours ago";
  return std::to_string(seconds / 86400) + " days ago";
}

}  // namespace

Assets make_assets(int img_size_limit) {
  Assets a;
  a.js = assets::kChatonJs;
  a.js_name = "chaton." + to_hex(content_hash(a.js), 16).substr(0, 12) + ".js";
  a.css = assets::kChatonCss;
  std::string px = std::to_string(img_size_limit) + "px";
  a.css += "img.inline-image { max-width: min(100%, " + px + "); max-height: " + px +
           "; height: auto; display: block; margin: 0.3rem 0; }\n";
  return a;
}

std::string_view page_csp() {
  return "default-src 'self'; script-src 'self'; style-src 'self'; img-src * data:; "
         "media-src *; frame-src https://www.youtube-nocookie.com https://embed.nicovideo.jp; "
         "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'";
}

std::string render_room_page(const Room& room, const Assets& assets, std::string_view cookie_path) {
  const auto& c = room.settings().config;
  const std::string& url = room.settings().url;
  std::string name = html_escape(c.name);
  std::string h;
  h.reserve(4096);
  h += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>Chaton ";
  h += name;
  h += "</title>\n<link rel=\"stylesheet\" href=\"" + html_escape(url) + "chaton.css\">\n";
  h += "<link rel=\"alternate\" type=\"application/rss+xml\" title=\"" + name + "\" href=\"" +
       html_escape(url) + "var/index.rdf\">\n";
  h += "<script src=\"" + html_escape(url + assets.js_name) + "\" defer></script>\n</head>\n";
  h += "<body data-comet=\"" + html_escape(url) + "comet\" data-post=\"" + html_escape(url) +
       "post\" data-cookie-path=\"" + html_escape(cookie_path) + "\">\n<div class=\"page\">\n";
  h += "<header class=\"room-header\">";
  if (!c.icon_url.empty())
    h += "<img class=\"room-icon\" src=\"" + html_escape(c.icon_url) + "\" alt=\"\">";
  h += "<div><h1>" + name + "</h1>";
  if (!c.description.empty()) h += "<p class=\"room-description\">" + c.description + "</p>";
  h += "</div></header>\n";
  h += "<nav class=\"room-links\"><a href=\"" + html_escape(url) + "a/yesterday\">Read Archive</a>"
       "<a href=\"" + html_escape(url) + "var/index.rdf\">RSS</a></nav>\n";
  h += "<div id=\"view-pane\" role=\"log\" aria-live=\"polite\" aria-label=\"Messages\"></div>\n";
  h += "<p id=\"status-line\" role=\"status\">Connecting...</p>\n";
  h += "<form id=\"post-form\" action=\"" + html_escape(url) + "post\" method=\"post\">\n"
       "<div class=\"row\"><label for=\"nick\">Nickname</label>"
       "<input type=\"text\" id=\"nick\" name=\"nick\" maxlength=\"64\" autocomplete=\"nickname\" required>"
       "<label><input type=\"checkbox\" name=\"remember\"> Remember me</label>"
       "<label><input type=\"checkbox\" name=\"returnToPost\" checked> &#39;Return&#39; key to post</label></div>\n"
       "<label for=\"text\" class=\"visually-hidden\">Message</label>"
       "<textarea id=\"text\" name=\"text\" rows=\"2\" placeholder=\"Say something\"></textarea>\n"
       "<div class=\"row\"><button type=\"submit\">Send</button>"
       "<p id=\"post-error\" class=\"post-error\" role=\"alert\"></p></div>\n</form>\n";
  h += "</div>\n</body>\n</html>\n";
  return h;
}

std::string render_room_index(const std::vector<RoomSummary>& rooms, int64_t now) {
  std::string h =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      "<title>Chaton rooms</title>\n";
  if (!rooms.empty()) h += "<link rel=\"stylesheet\" href=\"" + html_escape(rooms[0].url) + "chaton.css\">\n";
  h += "</head>\n<body>\n<div class=\"page\">\n<h1>Chaton rooms</h1>\n<ul class=\"room-list\">\n";
  for (const auto& r : rooms) {
    h += "<li><a href=\"" + html_escape(r.url) + "\"><strong>" + html_escape(r.name) + "</strong></a>";
    if (!r.description.empty()) h += "<div>" + r.description + "</div>";
    size_t n = r.status.num_chatters;
    h += "<div class=\"meta\">";
    h += n == 0 ? std::string("No chatters") : n == 1 ? std::string("1 chatter") : std::to_string(n) + " chatters";
    h += " &middot; ";
    h += r.status.last_post > 0 ? "last post " + ago(std::max<int64_t>(0, now - r.status.last_post))
                                : std::string("no posts yet");
    h += "</div></li>\n";
  }
  h += "</ul>\n</div>\n</body>\n</html>\n";
  return h;
}

std::string robots_txt(const std::vector<std::string>& room_paths) {
  std::string s = "User-agent: *\n";
  for (const auto& p : room_paths)
    for (const char* e : {"comet", "post", "apilogin", "chaton-poster-", "events", "ws"})
      s += "Disallow: " + p + e + "\n";
  return s;
}

}  // namespace chaton::http
