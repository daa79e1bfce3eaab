// delta_for(): see delta_cache.h.
#include "live/delta_cache.h"

#include <array>
#include <cstddef>

namespace chaton::live {

namespace {

// A few are enough: after a post, the readers of a room wait at one pos or
// two (the format of each kind of client).
constexpr size_t kCachedDeltas = 8;

struct Entry {
  uint64_t room = 0;  // Room::id(); 0: empty
  uint64_t pos = 0;
  PacketFormat format{};
  Delta delta;  // with the room's epoch and window version when it was made
};

struct Table {
  std::array<Entry, kCachedDeltas> entries;
  size_t next = 0;  // replaced next, round robin
};

thread_local Table table;

}  // namespace

Delta delta_for(Room& room, Cid cid, uint64_t pos, PacketFormat format, uint64_t& epoch) {
  // The version first: a reload publishes its epoch before its window, so
  // a version read here comes with an epoch at least as new.
  const uint64_t version = room.window_version();
  const uint64_t now_epoch = room.epoch();
  if (epoch == now_epoch) {
    for (const Entry& e : table.entries)
      if (e.room == room.id() && e.pos == pos && e.format == format && e.delta.window_version == version &&
          e.delta.epoch == now_epoch)
        return e.delta;
  }
  Delta d = room.delta_since(cid, pos, format);
  epoch = d.epoch;
  // Kept only what any reader at `pos` gets: not a start over (a reload's,
  // or the view sent again), not a reader beyond the end (nothing new).
  if (!d.refresh && !d.started_over && d.has_posts) {
    Entry& e = table.entries[table.next];
    table.next = (table.next + 1) % kCachedDeltas;
    e = Entry{room.id(), pos, format, d};
  }
  return d;
}

}  // namespace chaton::live
