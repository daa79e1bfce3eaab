// The HTML pages the server renders itself (room page, room index, search
// results, badge page; the archive pages are in archive_pages.h) and the
// compiled-in browser assets (chaton.css, chaton.<hash>.js).
//
// Every page is complete server-rendered HTML with no inline script, style
// or event handler, so page_csp() holds. The room page needs the script;
// the badge page (Copy buttons), an archive day and the search results
// (times in the reader's zone, day separators) load it, and work without it.
// Posts are always rendered by render/html.h (one renderer).
//
// Pure functions of plain data, thread-safe: no page knows a Room, a
// request or a socket; the endpoints fill these structs (src/endpoints).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "messages/post.h"
#include "pages/badge.h"
#include "render/html.h"
#include "search/search.h"

namespace chaton::pages {

// Made once at start; the gzip forms are null when zlib failed (each
// response is then compressed as it goes, http/caching.h).
struct Assets {
  std::string js;
  std::string js_name;   // "chaton.<content hash>.js"
  std::string css;       // with the configured image size limit
  std::string css_name;  // "chaton.<content hash>.css": stylesheet_name()
  std::shared_ptr<const std::string> js_gzip, css_gzip;
  // Their ETags, made once by whoever serves them (http::entity_tag);
  // empty: made from the body on each response.
  std::string js_etag, css_etag;
};
Assets make_assets(int img_size_limit);
// The content-hashed file name of the stylesheet made with this image size
// limit (the one make_assets() makes); pages link it under the room's URL.
// An unhashed "chaton.css" is served too, for pages that know no limit (the
// room index) and links from elsewhere.
std::string stylesheet_name(int img_size_limit);

// What the pages show of a room, from its settings.
struct PageRoom {
  std::string name;         // plain text
  std::string url;          // absolute, ends with '/'
  std::string description;  // the operator's HTML (docs/CONFIG.md, "[[room]]"); may be empty
  std::string icon_url;     // may be empty
  RenderOptions render;     // for posts
  std::string script_url;   // absolute; the search page loads it for local times; may be empty
};

// ---- the frame shared by every page

struct PageFrame {
  std::string title;        // plain text
  std::string css_url;      // absolute
  std::string script_url;   // absolute; empty: the page loads no script
  std::string description;  // <meta name="description">, plain text; may be empty
  std::string canonical;    // absolute; may be empty
  std::string rss_url;      // <link rel="alternate">; may be empty
  std::string rss_title;
  std::string prev_url, next_url;  // <link rel="prev"/"next">; may be empty
  bool noindex = false;            // <meta name="robots" content="noindex">
  std::string body_class;
  std::string body_attributes;  // already escaped, e.g. ` data-x="1"`
};
// From <!DOCTYPE html> to the opening <body> tag.
std::string page_open(const PageFrame& frame);
// "</body></html>"
std::string page_close();

// "a%20b" — every byte but unreserved ones percent-encoded (for query values).
std::string url_encode(std::string_view s);

// ---- pages

// `user`: who is signed in to a private room (docs/PROTOCOL.md, "Private
// rooms"); not empty, the room's links add its password page. Empty for a
// public room.
std::string render_room_page(const PageRoom& room, const Assets& assets, std::string_view cookie_path,
                             std::string_view user = {});

struct RoomSummary {
  std::string name, url, description;
  struct Activity {
    size_t num_chatters = 0;
    int64_t last_post = 0;  // unix time; 0: no post yet
  } status;
  std::optional<Post> last;  // the newest post, when the room has one
  // A private room is listed by name and link only: how busy it is, and
  // when it was last posted to, are for its users.
  bool is_private = false;
};
std::string render_room_index(const std::vector<RoomSummary>& rooms, int64_t now);

// search?q=: the form, and when `query` is not blank, one page of results.
// `raw_query` is the q parameter as given (it refills the form).
std::string render_search_page(const PageRoom& room, std::string_view raw_query, const search::Query& query,
                               const search::Results& results);

// badge.html: the badges as they look and the snippets to copy.
std::string render_badge_page(const PageRoom& room, const Assets& assets, const BadgeInfo& info);
// The password-change page of a private room (docs/PROTOCOL.md, "Private
// rooms") for `user`, framed as the other pages: the form, with `message`
// above it (why the password was not changed, or the confirmation when
// `changed`, which replaces the form).
struct PasswdForm {
  std::string user;
  std::string message;
  bool changed = false;
  size_t min_length = 0, max_length = 0;  // of a password (access/htpasswd.h)
};
std::string render_passwd_page(const PageRoom& room, const PasswdForm& form);

std::string robots_txt(const std::vector<std::string>& room_paths);

}  // namespace chaton::pages
