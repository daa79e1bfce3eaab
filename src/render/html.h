// Rendering posts as HTML (docs/PROTOCOL.md, "Rendering"): the one
// implementation behind every format that carries HTML (the web comet format,
// archive pages, RSS descriptions, search results).
//
// Everything user-supplied is escaped, the nickname included. URLs become
// links (rel="nofollow noopener", target="_blank"); image URLs become inline
// images (alt text: who posted which file); YouTube watch links become
// iframe embeds. A header (the nick, coloured by its nick-cN class, then
// <time datetime>) is left out when the previous post has the same nick and
// address and is less than 240 s older. Every post has a permalink named
// after it (aria-label) and out of the tab order. No inline script or event handler is ever emitted,
// so a strict Content-Security-Policy holds.
//
// Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "messages/post.h"

namespace chaton {

inline constexpr int64_t kHeaderGroupSeconds = 240;
// How many nickname colours the stylesheet has (classes nick-c0 ...).
inline constexpr int kNickColours = 12;

struct RenderOptions {
  std::string room_url;  // absolute, ends with '/', e.g. "http://host/lobby/"
  int img_size_limit = 400;
  int embed_youtube_width = 425;
  int embed_youtube_height = 344;
};

// "entry-<sec hex>-<usec hex, at least 2 digits>"
std::string entry_id(int64_t sec, int64_t usec);
// "<room_url>a/YYYY/MM/DD#entry-..." with the UTC date of sec.
std::string permalink(std::string_view room_url, int64_t sec, int64_t usec);

// The colour of a nickname, 0 .. kNickColours - 1: a hash of its bytes, so
// the same nick has the same colour everywhere and always.
int nick_colour(std::string_view nick);

// The text of one post with escaping, links, images and embeds applied.
// `nick`, the poster's, goes into the alt text of inline images (may be empty).
std::string render_text(std::string_view text, const RenderOptions& opts, std::string_view nick = {});
// A post's text as it stands in a view: render_text() in
// <div class="entry-single" id="ID"><span>…</span></div>, or, when the text
// has several lines, in <pre class="entry-multi" id="ID">…</pre>.
std::string render_entry_text(std::string_view text, std::string_view id, const RenderOptions& opts,
                              std::string_view nick = {});

// A run of posts as it appears in a view; `previous` is the post shown just
// before the first one (nullptr when none), for header grouping.
std::string render_posts(std::span<const Post> posts, const Post* previous, const RenderOptions& opts);

}  // namespace chaton
