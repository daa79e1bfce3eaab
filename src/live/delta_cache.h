// delta_for(): what a reader must be sent, as Room::delta_since() says,
// mostly without taking the room's lock.
//
// After a post, every reader of the room asks delta_since() for the same
// few (pos, format) pairs: on a many-core server the event loops would
// queue on the room's one lock for it, once per reader. So each thread
// keeps the deltas it was given lately (a few, in a thread-local table),
// and a reader at the same pos, in the same format, while the room's
// window version and epoch (Room::window_version(), Room::epoch()) have
// not moved, is given the one this thread already has: the same shared
// content, the same Delta. Only the first reader of a thread after each
// post asks the room.
//
// What a reader gets is exactly what delta_since() would give it:
//  - what a reader at a pos is sent depends only on the window of recent
//    posts, which does not change without its version moving (a publish,
//    a reload, archiving);
//  - `epoch` is the room's epoch of the reader's own last delta; before
//    the first, a long poll's is the epoch its admission found its cid
//    current in, or CidTable::kBehindEpoch for a cid from before a reload
//    (Room::Entrance), and a stream's is 0 (its cid is new, so current). A
//    reader from before a reload (its cid behind, which delta_since()
//    starts over) never takes the cached path, since that needs the room's
//    epoch to equal it;
//  - a delta that starts its reader over (`refresh`, or `started_over`
//    for a format that cannot clear a view and goes on from the reload),
//    or has nothing new (a reader at or beyond the room's end), is never
//    kept: those are the reader's own.
// One bookkeeping step of delta_since() is skipped on the cached path: a
// reader from a node further ahead whose pos a catch-up refuted, and which
// posts overtook before it asked again, is not crossed off the refuted
// list; if it comes back ahead later it starts over once more (a refresh,
// never a lost or doubled post).
//
// Thread-safety: call on the reader's thread; the table is the calling
// thread's. Lifetime: nothing to outlive (entries hold their content).
#pragma once

#include <cstdint>

#include "rooms/room.h"

namespace chaton::live {

// `epoch`: the epoch of the reader's last delta, updated to this one's.
Delta delta_for(Room& room, Cid cid, uint64_t pos, PacketFormat format, uint64_t& epoch);

}  // namespace chaton::live
