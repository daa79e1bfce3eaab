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
  uint64_t sequence = 0;  // the room's when it was made, or older
  Delta delta;            // delta.epoch: the room's epoch then
};

struct Table {
  std::array<Entry, kCachedDeltas> entries;
  size_t next = 0;  // replaced next, round robin
};

thread_local Table table;

}  // namespace

Delta delta_for(Room& room, Cid cid, uint64_t pos, PacketFormat format, uint64_t& epoch) {
  const uint64_t sequence = room.sequence();
  const uint64_t now_epoch = room.epoch();
  if (epoch == now_epoch && pos < sequence) {
    for (const Entry& e : table.entries)
      if (e.room == room.id() && e.pos == pos && e.format == format && e.sequence == sequence &&
          e.delta.epoch == now_epoch)
        return e.delta;
  }
  Delta d = room.delta_since(cid, pos, format);
  epoch = d.epoch;
  // Made after `sequence` and `now_epoch` were read: it is at least that
  // fresh, so it may stand for what a reader at `pos` gets while they hold.
  if (!d.refresh && d.has_posts && pos < sequence && d.epoch == now_epoch) {
    Entry& e = table.entries[table.next];
    table.next = (table.next + 1) % kCachedDeltas;
    e = Entry{room.id(), pos, format, sequence, d};
  }
  return d;
}

}  // namespace chaton::live
