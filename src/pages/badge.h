// The room badge (docs/PROTOCOL.md, "Badge"): a small summary of a room (icon,
// name linked to the room, time since the last post, chatters) for other web
// pages.
//
//   b           JavaScript that document.write()s the badge's markup where
//               the <script> tag stands, as the original did, so existing
//               embeds keep working.
//   badge.svg   the same as a small image, for READMEs and forums that
//               allow images but not scripts.
//   badge.html  the badge and the snippets to copy (see pages.h).
//
// Every room-supplied string is escaped for where it goes: HTML text and
// attributes, then a JavaScript string literal for `b`; XML for the SVG.
// Pure functions, thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace chaton::pages {

struct BadgeInfo {
  std::string name;      // the room's name (plain text)
  std::string room_url;  // absolute, ends with '/'
  std::string icon_url;  // may be empty
  size_t chatters = 0;
  int64_t last_post = 0;  // unix time; 0: no post yet
  int64_t now = 0;        // unix time
};

// "N seconds/minutes/hours/days/weeks ago" (singular for 1), or
// "no known updates" when there was no post.
std::string time_ago(int64_t last_post, int64_t now);
// "No chatters", "1 chatter", "N chatters".
std::string chatters_text(size_t n);

// "Start chatting in <room name>": the tooltip of the badge's links.
std::string badge_tooltip(const BadgeInfo& info);
// The badge's markup, with the original badge's structure and class names
// so that pages styling those keep their look:
//   <span class="chaton-badge">[<a><img alt="[icon]" title=TIP></a>]
//   <span class="chaton-room-name"><a title=TIP>NAME</a></span>
//   <span class="chaton-last-update">…</span><span class="chaton-chatters">…</span></span>
// (the icon only when the room has one). No inline style or script.
std::string badge_markup(const BadgeInfo& info);
// `b`: document.write("<style>default look</style><markup>"), as the
// original wrote its badge.
std::string badge_script(const BadgeInfo& info);
// badge.svg: "<room> | N chatters · 5 minutes ago".
std::string badge_svg(const BadgeInfo& info);

// A JavaScript string literal (double-quoted) holding `s`, safe inside an
// HTML <script> element too: quotes, backslashes, < > & and every control
// character, U+2028 and U+2029 are escaped.
std::string js_string_literal(std::string_view s);

}  // namespace chaton::pages
