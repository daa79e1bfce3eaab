// The plain data the pages render (src/pages), read from a Room: what a
// page shows of the room (its settings), and the archive browser's months
// and days with the reply for a path below `a/` (see pages/archive_pages.h
// for the URLs), and the days a search scans (RoomDays).
//
// The archive readers read the disk: they run where a handler may block
// (endpoint_table.h), never on an I/O thread. Thread-safe as the Room is.
// Lifetime: what they return is plain data that owns its strings; the Room
// need only live through the call.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pages/archive_pages.h"
#include "pages/pages.h"
#include "rooms/room.h"
#include "search/search.h"
#include "util/civil_time.h"

namespace chaton::endpoints {

// `script_url`: the room's script (RoomEndpoints::script_url), for the
// pages that load it; empty for those that do not.
pages::PageRoom page_room(const RoomSettings& settings, std::string script_url = {});
pages::ArchiveRoom archive_room(const RoomSettings& settings, std::string script_url = {});

pages::MonthNav load_month(Room& room, int year, int month);
pages::DayPage load_day(Room& room, Date date, size_t page = 1);
std::vector<pages::MonthSummary> load_months(Room& room);

// A reply for a path below "a/" (the part after it, percent-decoded).
struct PageReply {
  int status = 200;       // 200, 302 or 404
  std::string location;   // for 302: an absolute URL (the room's public URL)
  std::string body;       // HTML for 200 and 404
  bool past_day = false;  // a day before today: its posts are all in
};
// `page`: the page of a day (see archive_pages.h); `script_url`: the room's script.
PageReply archive_reply(Room& room, std::string_view path, Date today, size_t page = 1,
                        std::string script_url = {});

// The days of a Room for a search: its archive (months, days_in_month,
// day) together with the live window (recent posts), which covers the days
// not archived yet. Built per search; not shared between threads. The
// window is copied on first use (an indexed search seldom needs it).
class RoomDays final : public search::DaySource {
 public:
  explicit RoomDays(Room& room);
  std::vector<Date> days() override;
  std::vector<Post> posts(Date day) override;

 private:
  const std::vector<Post>& window();
  Room& room_;
  std::optional<std::vector<Post>> window_;  // the live window, oldest first
};

}  // namespace chaton::endpoints
