// RoomFeed: see room_feed.h.
#include "http/room_feed.h"

#include <random>

#include <boost/asio/post.hpp>

#include "render/packet.h"

namespace chaton::http {

namespace net = boost::asio;

RoomFeed::RoomFeed(std::shared_ptr<Room> room, net::any_io_executor strand, uint64_t pos,
                   PacketFormat format, const CometConfig& timing)
    : room_(std::move(room)), strand_(strand), pos_(pos), format_(format), timing_(timing), timer_(strand) {}

void RoomFeed::start(std::string_view address) {
  cid_ = room_->allocate_cid(address);
  room_->hold(cid_);
  last_nc_ = room_->num_chatters();
  // The first packet goes out at once, even with nothing new in it: the
  // reader learns its cid, the room's nc and that it is connected.
  if (!send_delta(room_->delta_since(cid_, pos_, format_))) return;
  pump();
  if (!stopped_) arm_timer();
}

void RoomFeed::stop() {
  if (stopped_) return;
  stopped_ = true;
  timer_.cancel();
  room_->unwait(cid_, this);
  room_->replied(cid_);  // no longer held: it expires like any idle client
}

void RoomFeed::wake() {
  net::post(strand_, [self = shared_from_this()] { self->pump(); });
}

// Sends `d` (also when it carries nothing), unless it shows the reader
// behind by more than a packet of live posts: then the reader is cut off.
bool RoomFeed::send_delta(const Delta& d) {
  if (d.refresh) catching_up_ = true;  // the view is sent again from its start
  if (d.more && !catching_up_) {
    cut_off();
    stop();
    return false;
  }
  return send_packet(d);
}

bool RoomFeed::send_packet(const Delta& d) {
  PacketHeader h;
  h.pos = d.pos;
  h.nc = room_->num_chatters();
  h.ver = room_->settings().version;
  h.cid = cid_;
  h.refresh = d.refresh;
  last_nc_ = h.nc;
  auto packet = std::make_shared<const std::string>(wrap_packet(format_, h, *d.content));
  ++in_flight_;
  bool catch_up = catching_up_;
  if (!d.more) catching_up_ = false;
  if (!deliver(d.pos, std::move(packet), [self = shared_from_this()] { self->written(); }, catch_up)) {
    stop();
    return false;
  }
  pos_ = d.pos;
  return true;
}

void RoomFeed::pump() {
  while (!stopped_) {
    if (in_flight_ > 0) {  // written() pumps again
      held_ = true;
      return;
    }
    Delta d = room_->delta_since(cid_, pos_, format_);
    if ((d.has_posts || d.refresh) && !send_delta(d)) return;
    if (in_flight_ > 0) continue;
    if (room_->wait(cid_, pos_, shared_from_this())) return;
  }
}

void RoomFeed::written() {
  --in_flight_;
  if (in_flight_ == 0 && held_ && !stopped_) {
    held_ = false;
    pump();
  }
}

void RoomFeed::arm_timer() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uniform_real_distribution<double> secs(timing_.soft_timeout_min, timing_.soft_timeout_max);
  timer_.expires_after(std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(secs(rng))));
  timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (ec || self->stopped_) return;
    if (self->room_->num_chatters() != self->last_nc_) {
      Delta ping = self->room_->delta_since(self->cid_, self->pos_, self->format_);
      if (!self->send_delta(ping)) return;
    } else {
      self->heartbeat();
    }
    self->arm_timer();
  });
}

}  // namespace chaton::http
