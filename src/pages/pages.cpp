// Pages: see pages.h. Room names and URLs are escaped; a room description
// is the operator's HTML (docs/CONFIG.md, "[[room]]") and is inserted as is.
#include "pages/pages.h"

#include <algorithm>

#include "render/html.h"
#include "util/civil_time.h"
#include "util/gzip.h"
#include "util/text.h"

namespace chaton::assets {

using pages::Assets;
using pages::badge_markup;
using pages::BadgeInfo;
using pages::chatters_text;
using pages::make_assets;
using pages::page_close;
using pages::page_open;
using pages::PageFrame;
using pages::PageRoom;
using pages::PasswdForm;
using pages::render_badge_page;
using pages::render_passwd_page;
using pages::render_room_index;
using pages::render_room_page;
using pages::render_search_page;
using pages::robots_txt;
using pages::RoomSummary;
using pages::time_ago;
using pages::url_encode;
extern const char kChatonJs[];
extern const char kChatonCss[];
}  // namespace chaton::assets

namespace chaton::pages {

namespace {

constexpr size_t kExcerptChars = 120;  // of the last post, on the room index

// A speech bubble, so browsers do not ask for /favicon.ico.
constexpr std::string_view kFavicon =
    "data:image/svg+xml,<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'>"
    "<path fill='%231f5fc9' d='M3 2h10a2 2 0 0 1 2 2v6a2 2 0 0 1-2 2H8l-4 3v-3H3a2 2 0 0 1-2-2V4a2 2 0 0 "
    "1 2-2z'/></svg>";

// A stable content hash for the assets' file names; `h` carries on from
// the hash of what comes before `s`.
uint64_t content_hash(std::string_view s, uint64_t h = kFnv1aOffset) { return fnv1a64(s, h); }

std::string esc(std::string_view s) { return html_escape(s); }

// The first line of a text, at most `max` characters, with an ellipsis when cut.
std::string excerpt(std::string_view text, size_t max) {
  std::string_view line = trim(text.substr(0, text.find('\n')));
  size_t i = 0, n = 0;
  while (i < line.size() && n < max) {
    ++i;
    while (i < line.size() && (static_cast<unsigned char>(line[i]) & 0xC0) == 0x80) ++i;
    ++n;
  }
  std::string out(line.substr(0, i));
  if (i < line.size() || line.size() < trim(text).size()) out += "\xE2\x80\xA6";
  return out;
}

std::string link(std::string_view href, std::string_view text_html, std::string_view attrs = {}) {
  std::string h = "<a href=\"";
  h += esc(href);
  h += "\"";
  if (!attrs.empty()) {
    h += " ";
    h += attrs;
  }
  h += ">";
  h += text_html;
  h += "</a>";
  return h;
}

// What the configuration adds to the compiled-in stylesheet.
std::string stylesheet_tail(int img_size_limit) {
  std::string px = std::to_string(img_size_limit) + "px";
  return "\n/* img_size_limit from the configuration */\n"
         "img.inline-image { max-width: min(100%, " +
         px + "); max-height: " + px + "; }\n";
}

std::shared_ptr<const std::string> gzipped(std::string_view body) {
  auto z = gzip_compress(body);
  return z ? std::make_shared<const std::string>(std::move(z.value())) : nullptr;
}

}  // namespace

std::string stylesheet_name(int img_size_limit) {
  static const uint64_t compiled_in = content_hash(assets::kChatonCss);
  uint64_t h = content_hash(stylesheet_tail(img_size_limit), compiled_in);
  return "chaton." + to_hex(h, 16).substr(0, 12) + ".css";
}

Assets make_assets(int img_size_limit) {
  Assets a;
  a.js = assets::kChatonJs;
  a.js_name = "chaton." + to_hex(content_hash(a.js), 16).substr(0, 12) + ".js";
  a.css = std::string(assets::kChatonCss) + stylesheet_tail(img_size_limit);
  a.css_name = stylesheet_name(img_size_limit);
  a.js_gzip = gzipped(a.js);
  a.css_gzip = gzipped(a.css);
  return a;
}

std::string page_open(const PageFrame& f) {
  std::string h;
  h.reserve(2048);
  h += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
       "<meta name=\"color-scheme\" content=\"light dark\">\n<title>";
  h += esc(f.title);
  h += "</title>\n";
  if (!f.description.empty()) h += "<meta name=\"description\" content=\"" + esc(f.description) + "\">\n";
  if (f.noindex) h += "<meta name=\"robots\" content=\"noindex\">\n";
  if (!f.canonical.empty()) h += "<link rel=\"canonical\" href=\"" + esc(f.canonical) + "\">\n";
  if (!f.prev_url.empty()) h += "<link rel=\"prev\" href=\"" + esc(f.prev_url) + "\">\n";
  if (!f.next_url.empty()) h += "<link rel=\"next\" href=\"" + esc(f.next_url) + "\">\n";
  h += "<link rel=\"icon\" href=\"" + esc(kFavicon) + "\">\n";
  h += "<link rel=\"stylesheet\" href=\"" + esc(f.css_url) + "\">\n";
  if (!f.rss_url.empty())
    h += "<link rel=\"alternate\" type=\"application/rss+xml\" title=\"" + esc(f.rss_title) + "\" href=\"" +
         esc(f.rss_url) + "\">\n";
  if (!f.script_url.empty()) h += "<script src=\"" + esc(f.script_url) + "\" defer></script>\n";
  h += "</head>\n<body";
  if (!f.body_class.empty()) h += " class=\"" + esc(f.body_class) + "\"";
  h += f.body_attributes;
  h += ">\n";
  return h;
}

std::string page_close() { return "</body>\n</html>\n"; }

std::string url_encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

// ---- the room page

std::string render_room_page(const PageRoom& c, const Assets& assets, std::string_view cookie_path,
                             std::string_view user) {
  const std::string& url = c.url;
  std::string name = esc(c.name);

  PageFrame f;
  f.title = "Chaton " + c.name;
  f.css_url = url + assets.css_name;
  f.script_url = url + assets.js_name;
  f.canonical = url;
  f.description = "Chat room " + c.name + ", live.";
  f.rss_url = url + "var/index.rdf";
  f.rss_title = c.name;
  f.body_class = "room-page";
  f.body_attributes = " data-comet=\"" + esc(url + "comet") + "\" data-events=\"" + esc(url + "events") +
                      "\" data-post=\"" + esc(url + "post") + "\" data-cookie-path=\"" + esc(cookie_path) +
                      "\"";

  std::string h = page_open(f);
  h.reserve(6144);
  h += "<a class=\"skip-link\" href=\"#text\">Skip to the message box</a>\n";
  h += "<div class=\"app\">\n<header class=\"room-header\">\n";
  if (!c.icon_url.empty()) h += "<img class=\"room-icon\" src=\"" + esc(c.icon_url) + "\" alt=\"\">\n";
  h += "<div class=\"room-title\"><h1>" + name + "</h1>";
  if (!c.description.empty()) h += "<div class=\"room-description\">" + c.description + "</div>";
  h += "</div>\n<nav class=\"room-links\" aria-label=\"Room\">";
  h += link(url + "a/yesterday", "Archives");
  h += link(url + "search", "Search");
  h += link(url + "var/index.rdf", "RSS", "type=\"application/rss+xml\"");
  h += link(url + "badge.html", "Badge");
  // Basic authentication has no signing out: what a user can do is change
  // the password. The name says who the browser is signed in as.
  if (!user.empty())
    h += link(url + "passwd",
              "Change password<span class=\"visually-hidden\"> (signed in as " + esc(user) + ")</span>",
              "class=\"account-link\"");
  h += "</nav>\n</header>\n";
  h += "<main class=\"chat\">\n<div id=\"view-pane\" class=\"view\" role=\"log\" aria-live=\"polite\" "
       "aria-relevant=\"additions\" aria-label=\"Messages\" tabindex=\"0\"></div>\n"
       "<button type=\"button\" id=\"jump-latest\" class=\"jump-latest\" hidden>New posts below "
       "&darr;</button>\n"
       "<noscript><p class=\"notice\">The live view needs JavaScript. The day so far is in "
       "<a href=\"" +
       esc(url + "a/today") + "\">today&#39;s archive</a>.</p></noscript>\n</main>\n";
  // The message box: a region of its own (a <footer> would make it the
  // page's "content info").
  h += "<section class=\"composer\" aria-label=\"Post a message\">\n"
       "<p id=\"status-line\" class=\"status-line\" role=\"status\">Connecting...</p>\n"
       "<form id=\"post-form\" action=\"" +
       esc(url + "post") +
       "\" method=\"post\">\n"
       "<fieldset id=\"post-fields\"><legend class=\"visually-hidden\">Post a message</legend>\n"
       "<div class=\"row nick-row\"><label for=\"nick\">Nickname</label>"
       "<input type=\"text\" id=\"nick\" name=\"nick\" maxlength=\"64\" autocomplete=\"nickname\" "
       "spellcheck=\"false\" required>"
       "<span class=\"options\"><label class=\"check\"><input type=\"checkbox\" id=\"remember\" "
       "name=\"remember\"> Remember me</label>"
       "<label class=\"check\"><input type=\"checkbox\" id=\"return-to-post\" name=\"returnToPost\" "
       "checked> &#39;Return&#39; key to post</label>"
       "<label class=\"check\" id=\"notify-control\" hidden><input type=\"checkbox\" "
       "id=\"notify-mentions\"> Notify me of mentions</label></span></div>\n"
       "<div class=\"row text-row\"><label for=\"text\" class=\"visually-hidden\">Message</label>"
       "<textarea id=\"text\" name=\"text\" rows=\"2\" required "
       "placeholder=\"Say something (Shift+Return for a new line)\"></textarea>"
       "<button type=\"submit\" id=\"send\">Send</button></div>\n"
       "<p id=\"post-error\" class=\"post-error\" role=\"alert\"></p>\n"
       "</fieldset>\n</form>\n</section>\n</div>\n";
  h += page_close();
  return h;
}

// ---- the room index

std::string render_room_index(const std::vector<RoomSummary>& rooms, int64_t now) {
  PageFrame f;
  f.title = "Chaton rooms";
  f.description = "The chat rooms on this server.";
  f.css_url = rooms.empty() ? std::string() : rooms[0].url + "chaton.css";
  f.body_class = "index-page";
  std::string h = page_open(f);
  h += "<div class=\"page\">\n<header class=\"page-header\"><h1>Chaton rooms</h1></header>\n<main>\n";
  if (rooms.empty())
    h += "<p class=\"empty\">No rooms are configured.</p>\n";
  else
    h += "<ul class=\"room-list\">\n";
  for (const auto& r : rooms) {
    h += "<li class=\"room-card\"><h2>" + link(r.url, esc(r.name)) + "</h2>";
    if (r.is_private) {
      h += "<p class=\"meta\">A private room: log in to enter.</p>";
      h += "<p class=\"room-card-links\">" + link(r.url, "Enter") + "</p></li>\n";
      continue;
    }
    if (!r.description.empty()) h += "<div class=\"room-description\">" + r.description + "</div>";
    h += "<p class=\"meta\"><span class=\"chatters\">" + esc(chatters_text(r.status.num_chatters)) +
         " now</span> &middot; ";
    if (r.status.last_post > 0)
      h += "<span class=\"last-post\">last post " + esc(time_ago(r.status.last_post, now)) + "</span>";
    else
      h += "<span class=\"last-post\">no posts yet</span>";
    h += "</p>";
    if (r.last) {
      h += "<p class=\"last-line\"><span class=\"chatter\">" + esc(r.last->nick) + "</span> " +
           esc(excerpt(r.last->text, kExcerptChars)) + "</p>";
    }
    h += "<p class=\"room-card-links\">" + link(r.url, "Enter") + link(r.url + "a/today", "Today") +
         link(r.url + "search", "Search") + link(r.url + "var/index.rdf", "RSS") + "</p>";
    h += "</li>\n";
  }
  if (!rooms.empty()) h += "</ul>\n";
  h += "</main>\n</div>\n";
  h += page_close();
  return h;
}

// ---- search

std::string render_search_page(const PageRoom& room, std::string_view raw_query, const search::Query& query,
                               const search::Results& results) {
  const std::string& url = room.url;
  const std::string name = esc(room.name);
  std::string q(trim(raw_query));
  auto page_url = [&](size_t page) {
    std::string u = url + "search?q=" + url_encode(q);
    if (page > 1) u += "&page=" + std::to_string(page);
    return u;
  };

  PageFrame f;
  f.title = q.empty() ? room.name + " > Search" : room.name + " > Search: " + q;
  f.css_url = url + stylesheet_name(room.render.img_size_limit);
  f.noindex = true;
  f.body_class = "search-page";
  f.script_url = room.script_url;  // the times of the hits in the reader's zone
  f.rss_url = url + "var/index.rdf";
  f.rss_title = room.name;
  if (!query.empty() && results.page > 1) f.prev_url = page_url(results.page - 1);
  if (!query.empty() && results.has_more) f.next_url = page_url(results.page + 1);

  std::string h = page_open(f);
  h += "<div class=\"page\">\n<header class=\"page-header\"><h1 class=\"crumbs\">" + link(url, name) +
       " <span class=\"sep\">&gt;</span> Search</h1></header>\n<main>\n";
  h += "<form class=\"search-form\" role=\"search\" action=\"" + esc(url + "search") +
       "\" method=\"get\"><label for=\"q\">Search the whole history of " + name +
       "</label>"
       "<div class=\"row\"><input type=\"search\" id=\"q\" name=\"q\" value=\"" +
       esc(q) + "\" maxlength=\"" + std::to_string(search::kMaxQueryBytes) +
       "\" autocomplete=\"off\"><button type=\"submit\">Search</button></div>"
       "<p class=\"hint\">Every word must occur (in any order, ignoring case); "
       "&quot;quote a phrase&quot; to keep its words together.</p></form>\n";

  if (!query.empty() && results.partial)
    h += "<p class=\"search-partial\" role=\"status\">The search took too long and was stopped: "
         "these results are partial (older posts were not searched). Try more precise words.</p>\n";
  if (query.empty()) {
    if (!q.empty()) h += "<p class=\"search-summary\">Nothing to search for.</p>\n";
  } else if (results.hits.empty()) {
    h += "<p class=\"search-summary\" role=\"status\">";
    h += results.page > 1 ? "No more posts match" : "No posts match";
    h += " <q>" + esc(q) + "</q>.</p>\n";
  } else {
    size_t first = (results.page - 1) * search::kPageSize + 1;
    size_t last = first + results.hits.size() - 1;
    h += "<p class=\"search-summary\" role=\"status\">Posts " + std::to_string(first) + "&ndash;" +
         std::to_string(last) + " matching <q>" + esc(q) + "</q>, newest first.</p>\n";
    h += "<ol class=\"hits\" start=\"" + std::to_string(first) + "\">\n";
    std::optional<Date> shown_day;
    for (const auto& hit : results.hits) {
      h += "<li class=\"hit\">";
      if (shown_day != hit.day) {
        std::string d = format_date_path(hit.day);
        h += "<p class=\"hit-day\">" + link(url + "a/" + d, esc(d)) + "</p>";
        shown_day = hit.day;
      }
      std::span<const Post> one(&hit.post, 1);
      h += search::highlight(render_posts(one, nullptr, room.render), query);
      h += "</li>\n";
    }
    h += "</ol>\n";
  }
  if (!query.empty() && (results.page > 1 || results.has_more)) {
    h += "<nav class=\"pager\" aria-label=\"Result pages\">";
    if (results.page > 1) h += link(page_url(results.page - 1), "&larr; Newer", "rel=\"prev\"");
    h += "<span>Page " + std::to_string(results.page) + "</span>";
    if (results.has_more) h += link(page_url(results.page + 1), "Older &rarr;", "rel=\"next\"");
    h += "</nav>\n";
  }
  h += "</main>\n<footer class=\"page-footer\">" + link(url, "Back to the chat room") +
       link(url + "a/", "Archives") + "</footer>\n</div>\n";
  h += page_close();
  return h;
}

// ---- the badge page

std::string render_badge_page(const PageRoom& room, const Assets& assets, const BadgeInfo& info) {
  const std::string& url = room.url;
  const std::string name = esc(room.name);
  PageFrame f;
  f.title = room.name + " > Badge";
  f.css_url = url + assets.css_name;
  f.script_url = url + assets.js_name;  // only for the Copy buttons
  f.body_class = "badge-page";
  f.description = "A badge for " + room.name + " to put on other pages.";

  std::string script_snippet = "<script src=\"" + url + "b\"></script>";
  std::string img_snippet = "<a href=\"" + url + "\"><img src=\"" + url + "badge.svg\" alt=\"" +
                            esc(room.name) + " on Chaton\"></a>";
  std::string md_name;
  for (char c : room.name) {  // keep the Markdown link text plain
    if (c == '[' || c == ']' || c == '\\') md_name.push_back('\\');
    md_name.push_back(c);
  }
  std::string md_snippet = "[![" + md_name + " on Chaton](" + url + "badge.svg)](" + url + ")";

  auto snippet = [](std::string_view id, std::string_view label, const std::string& code) {
    return "<div class=\"snippet\"><label for=\"" + std::string(id) + "\">" + std::string(label) +
           "</label><textarea id=\"" + std::string(id) + "\" readonly rows=\"3\" spellcheck=\"false\">" +
           esc(code) + "</textarea><button type=\"button\" class=\"copy\" data-copy=\"" + std::string(id) +
           "\">Copy</button></div>";
  };

  std::string h = page_open(f);
  h += "<div class=\"page\">\n<header class=\"page-header\"><h1 class=\"crumbs\">" + link(url, name) +
       " <span class=\"sep\">&gt;</span> Badge</h1></header>\n<main>\n";
  h += "<section class=\"badge-section\"><h2>Script badge</h2>"
       "<p>Paste this into a web page where the badge should appear. It writes the room&#39;s "
       "name, when it was last active and how many people are chatting, as the original Chaton "
       "badge does; style it with the <code>chaton-badge</code> classes.</p>"
       "<div class=\"badge-preview\">" +
       badge_markup(info) + "</div>" + snippet("snippet-script", "HTML (script)", script_snippet) +
       "</section>\n";
  h += "<section class=\"badge-section\"><h2>Image badge</h2>"
       "<p>For README files and forums that take images but not scripts.</p>"
       "<div class=\"badge-preview\"><img src=\"" +
       esc(url + "badge.svg") + "\" alt=\"" +
       esc(room.name + ": " + chatters_text(info.chatters) + ", " + time_ago(info.last_post, info.now)) +
       "\"></div>" + snippet("snippet-img", "HTML (image)", img_snippet) +
       snippet("snippet-md", "Markdown", md_snippet) + "</section>\n";
  // What a Copy button did, for screen readers (the focus moves to the field).
  h += "<p id=\"copy-status\" class=\"visually-hidden\" role=\"status\"></p>\n";
  h += "</main>\n<footer class=\"page-footer\">" + link(url, "Back to the chat room") + "</footer>\n</div>\n";
  h += page_close();
  return h;
}

std::string render_passwd_page(const PageRoom& room, const PasswdForm& form) {
  const std::string& user = form.user;
  const std::string& message = form.message;
  const bool changed = form.changed;
  const std::string& url = room.url;
  const std::string name = esc(room.name);
  PageFrame f;
  f.title = room.name + " > Change password";
  f.css_url = url + stylesheet_name(room.render.img_size_limit);
  f.noindex = true;
  f.body_class = "passwd-page";

  std::string h = page_open(f);
  h += "<div class=\"page\">\n<header class=\"page-header\"><h1 class=\"crumbs\">" + link(url, name) +
       " <span class=\"sep\">&gt;</span> Change password</h1></header>\n<main>\n";
  if (changed) {
    h += "<p class=\"form-done\" role=\"status\">" + esc(message) + "</p>\n";
  } else {
    bool refused = !message.empty();
    if (refused) {
      std::string why = esc(message);
      if (why.find_last_of(".!?") != why.size() - 1) why += '.';
      h += "<p class=\"form-error\" id=\"passwd-error\" role=\"alert\"><strong>Your password was not "
           "changed:</strong> " +
           why + "</p>\n";
    }
    // The rule for a new password describes both fields that take one.
    auto field = [max_length = form.max_length](std::string_view id, std::string_view label,
                                                std::string_view autocomplete, bool new_password) {
      return "<div class=\"row\"><label for=\"" + std::string(id) + "\">" + std::string(label) +
             "</label><input type=\"password\" id=\"" + std::string(id) + "\" name=\"" + std::string(id) +
             "\" required autocomplete=\"" + std::string(autocomplete) + "\" maxlength=\"" +
             std::to_string(max_length) + "\"" + (new_password ? " aria-describedby=\"passwd-rule\"" : "") +
             "></div>";
    };
    h += std::string("<form class=\"passwd-form\"") + (refused ? " aria-describedby=\"passwd-error\"" : "") +
         " action=\"" + esc(url + "passwd") +
         "\" method=\"post\">"
         "<p>Logged in as <strong>" +
         esc(user) + "</strong>.</p>" + field("old", "Current password", "current-password", false) +
         field("new", "New password", "new-password", true) +
         field("again", "New password again", "new-password", true) +
         "<p class=\"hint\" id=\"passwd-rule\">At least " + std::to_string(form.min_length) +
         " characters. After the change your browser asks for the new password.</p>"
         "<button type=\"submit\">Change password</button></form>\n";
  }
  h += "</main>\n<footer class=\"page-footer\">" + link(url, "Back to the chat room") + "</footer>\n</div>\n";
  h += page_close();
  return h;
}

std::string robots_txt(const std::vector<std::string>& room_paths) {
  std::string s = "User-agent: *\n";
  for (const auto& p : room_paths)
    for (const char* e : {"comet", "post", "apilogin", "chaton-poster-", "events", "ws", "search", "passwd"})
      s += "Disallow: " + p + e + "\n";
  return s;
}

}  // namespace chaton::pages
