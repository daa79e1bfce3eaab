// RoomFeed: see room_feed.h.
#include "live/room_feed.h"

#include <algorithm>
#include <utility>

#include <boost/asio/post.hpp>

#include "live/delta_cache.h"
#include "live/delta_packet.h"
#include "live/wake_loop.h"

namespace chaton::live {

namespace net = boost::asio;

RoomFeed::RoomFeed(std::shared_ptr<Room> room, net::any_io_executor strand, uint64_t pos, PacketFormat format,
                   const CometConfig& timing, TimeSource& time, Transport transport)
    : Waiter(wake_loop_of(strand)),
      room_(std::move(room)),
      transport_(transport),
      strand_(std::move(strand)),
      pos_(pos),
      format_(format),
      timing_(timing),
      time_(time),
      timer_(time.make_timer(strand_)) {}

void RoomFeed::start(std::string_view address) {
  if (stopped_) return;
  counted_ = true;
  room_->metrics().readers(transport_).add();
  cid_ = room_->allocate_cid(address);
  room_->hold(cid_);
  last_nc_ = room_->num_chatters();
  // The first packet goes out at once, even with nothing new in it: the
  // reader learns its cid, the room's nc and that it is connected.
  if (!send_delta(delta_for(*room_, cid_, pos_, format_, epoch_), false)) return;
  pump(false);
  if (!stopped_) arm_timer();
}

void RoomFeed::end(Ending how) {
  if (stopped_) return;
  stopped_ = true;
  if (counted_) room_->metrics().readers(transport_).sub();
  timer_->cancel();
  room_->unwait(cid_, this, /*replied=*/true);  // no longer held: it expires like any idle client
  switch (how) {
    case Ending::gone:
      return;
    case Ending::behind:
      room_->metrics().dropped_readers->add();
      return cut_off();
    case Ending::stopping:
      return server_stopping();
  }
}

void RoomFeed::wake() {
  net::post(strand_, [self = shared_from_this()] { self->woken(); });
}

void RoomFeed::woken() {
  registered_ = false;  // the room let go of it to wake it
  if (stopped_) return;
  if (room_->stopping()) return end(Ending::stopping);  // after what is queued: the transport writes in order
  if (in_flight_ == 0) return pump(false);
  held_ = true;  // written() pumps
  count_batch();
}

// While a packet is being written, the feed counts the commit batches
// published meanwhile: it waits on the room at its newest post, and again
// after each wake-up.
void RoomFeed::count_batch() {
  ++batches_;
  if (!wait_at(room_->sequence())) ++batches_;
}

bool RoomFeed::wait_at(uint64_t pos) {
  if (stopped_) return false;  // an ended feed is never the room's waiter again
  registered_ = room_->wait(cid_, pos, shared_from_this());
  return registered_;
}

// Sends `d` (also when it carries nothing), unless the packet just written
// let more than a packet of live posts pile up: then the reader is cut off.
// `after_write`: `d` is what came while the last packet was being written.
bool RoomFeed::send_delta(const Delta& d, bool after_write) {
  if (d.refresh) catching_up_ = true;  // the view is sent again from its start
  // One commit batch may hold more than a packet (kMaxBatchPosts), and on a
  // busy or loaded machine a few may land during one write to a reader that
  // keeps up: it is behind only when many did (kMaxBatchesDuringWrite).
  if (d.more && after_write && !catching_up_ && batches_ > kMaxBatchesDuringWrite &&
      room_->delta_since(written_sequence_, format_).more) {
    end(Ending::behind);
    return false;
  }
  return send_packet(d);
}

bool RoomFeed::send_packet(const Delta& d) {
  DeltaPieces p = make_delta_pieces(*room_, d, cid_, format_);
  last_nc_ = p.header.nc;
  ping_due_ = false;  // this packet carries the count
  ++in_flight_;
  // A piece of a packet sequence (the catch-up, or a burst that came while
  // the reader was keeping up): written one at a time, not counted.
  bool piece = catching_up_ || d.more || in_pieces_;
  if (!d.more) catching_up_ = false;
  in_pieces_ = d.more;
  // What the room had when this packet was made (a batch published since
  // delta_since() counts as before: lenient by one batch at most).
  written_sequence_ = std::max(d.pos, room_->sequence());
  batches_ = 0;
  // The feed stands at the packet's end before it is handed over: the
  // transport may write it at once and run written() before deliver()
  // returns.
  pos_ = d.pos;
  if (!deliver(
          d.pos, std::move(p.bytes), [self = shared_from_this()] { self->written(); }, piece)) {
    stop();
    return false;
  }
  // A write that failed at once stopped the feed inside deliver(): nothing
  // was delivered, and the feed must not wait on the room again.
  if (stopped_) return false;
  room_->metrics().delivered(transport_).add(d.posts);
  return true;
}

void RoomFeed::pump(bool after_write) {
  // At the room's sequence there is nothing to send, unless wait() refuses
  // (a reload, a reader from further ahead): delta_since() tells then. So
  // the first turn, typically after a write, skips it when nothing came;
  // and if the wait taken during that write still stands (the room wakes
  // a waiter whenever it lets go of it), the feed is waiting at pos_
  // already: nothing to ask the room at all.
  bool first = true;
  while (!stopped_) {
    if (room_->stopping()) return end(Ending::stopping);
    if (in_flight_ > 0) {  // written() pumps again
      held_ = true;
      return;
    }
    bool ping = ping_due_ && room_->num_chatters() != last_nc_;
    bool quiet = std::exchange(first, false) && !ping && room_->sequence() == pos_;
    if (!quiet) {
      Delta d = delta_for(*room_, cid_, pos_, format_, epoch_);
      // A start over is sent even empty: in JSON it carries the new pos
      // (docs/PROTOCOL.md, "pos is the room's post sequence number").
      if ((d.has_posts || d.refresh || d.started_over || ping) && !send_delta(d, after_write)) return;
    }
    if (in_flight_ > 0) {
      if (!wait_at(written_sequence_)) count_batch();
      continue;
    }
    ping_due_ = false;
    if ((quiet && registered_) || wait_at(pos_)) return;
    after_write = false;  // news came while nothing was being written
  }
}

void RoomFeed::written() {
  --in_flight_;
  if (in_flight_ == 0 && held_ && !stopped_) {
    held_ = false;
    pump(true);
  }
}

void RoomFeed::arm_timer() {
  MonoDuration soft = random_between(time_, seconds_as_duration(timing_.soft_timeout_min),
                                     seconds_as_duration(timing_.soft_timeout_max));
  timer_->arm(soft, [self = shared_from_this()] { self->on_timer(); });
}

void RoomFeed::on_timer() {
  if (stopped_) return;
  if (room_->num_chatters() != last_nc_) {
    if (in_flight_ > 0) {
      // Never a second packet queued behind one not yet written: the
      // count goes out after it (pump()), in its packet or an empty one.
      ping_due_ = true;
    } else {
      Delta ping = delta_for(*room_, cid_, pos_, format_, epoch_);
      if (!send_delta(ping, false)) return;
    }
  } else if (in_flight_ == 0) {  // a write in flight is not idle
    heartbeat();
  }
  if (!stopped_) arm_timer();
}

}  // namespace chaton::live
