// The HTML pages the server renders itself (room page, room index) and the
// compiled-in browser assets (chaton.css, chaton.<hash>.js).
// Pure functions, thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "rooms/room.h"

namespace chaton::http {

struct Assets {
  std::string js;
  std::string js_name;  // "chaton.<content hash>.js"
  std::string css;      // with the configured image size limit
};
Assets make_assets(int img_size_limit);

// The Content-Security-Policy every page is sent with.
std::string_view page_csp();

std::string render_room_page(const Room& room, const Assets& assets, std::string_view cookie_path);

struct RoomSummary {
  std::string name, url, description;
  RoomStatus status;
};
std::string render_room_index(const std::vector<RoomSummary>& rooms, int64_t now);

std::string robots_txt(const std::vector<std::string>& room_paths);

}  // namespace chaton::http
