// RoomFeed: a long-lived reader of a room (Server-Sent Events, WebSocket).
//
// It uses the same fan-out as a long-poll — Room::wait() and the shared
// rendered fragment of delta_since() — but re-arms after each delivery
// instead of ending. Packets are the comet JSON packets (`comet?s=0`), or
// the web format (HTML content, `refresh` when the view must be cleared)
// that the browser's page asks for.
// A feed holds a cid for its whole life, so it counts in nc; at each soft
// timeout it sends an empty packet if nc changed, and a transport heartbeat
// otherwise — but only when no packet is being written: then the count goes
// out once the write is done (in the next packet, or an empty one).
//
// A feed hands the transport one packet at a time: while a packet is still
// being written it only counts the commit batches published meanwhile, and
// when the write is done it sends what came, as one packet when it fits.
//
// A packet carries at most one packet's worth of posts (kMaxPacketPosts,
// kMaxPacketBytes; Delta::more says more follow). What is longer goes out
// piece by piece, each once the last is written, so what a feed has queued
// stays one packet: the catch-up — the backlog after `pos` at the start, or
// the view sent again after a `refresh` — and a burst of posts (one commit
// batch can hold more than a packet) that comes while the reader is keeping
// up. The catch-up is never counted as falling behind. Otherwise a reader
// that lets more than one packet's worth of posts, from more than
// kMaxBatchesDuringWrite commit batches, pile up while a packet is still
// being written is behind:
// it is cut off (cut_off()). See docs/PROTOCOL.md, "Push streams".
//
// When the server stops (Room::stop_readers) the feed ends, after what it
// has queued, through server_stopping(): the transport tells its reader to
// come back (docs/PROTOCOL.md, "When the server stops"). A feed ends once,
// through end(), whichever way.
//
// A feed counts in its room's metrics (RoomMetrics) from start() until it
// ends, under its transport; so do the posts it sends, and a cut-off.
//
// The soft timeouts (random in [soft_min, soft_max]) come from the
// TimeSource, which must outlive the feed.
//
// Thread-safety: everything runs on the transport's executor (its event
// loop, or a strand); wake() posts there, and the room's fan-out calls
// woken() there (rooms/fan_out.h). Lifetime: the room holds the feed weakly; the transport holds it.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>

#include "config/config.h"
#include "http/write_queue.h"
#include "rooms/room.h"
#include "util/time_source.h"

namespace chaton::live {

// How many commit batches may be published while one packet is being
// written before a reader with more than a packet piled up counts as behind.
inline constexpr int kMaxBatchesDuringWrite = 8;

class RoomFeed : public Waiter, public std::enable_shared_from_this<RoomFeed> {
 public:
  RoomFeed(std::shared_ptr<Room> room, boost::asio::any_io_executor strand, uint64_t pos, PacketFormat format,
           const CometConfig& timing, TimeSource& time, Transport transport);

  // On the strand: takes a cid (owned by the client's `address`, see
  // Room::admit), sends a first packet at once (the backlog after `pos`,
  // or an empty one), then waits.
  void start(std::string_view address);
  // On the strand: stops waiting and lets the cid expire. Idempotent.
  void stop() { end(Ending::gone); }
  void wake() override;
  // On the strand: news may have come (after wake(), or from the fan-out).
  void woken() override;

  Room& room() { return *room_; }
  Cid cid() const { return cid_; }

 protected:
  // Sends one packet and runs `written` on the strand once it is written,
  // which may be before it returns (a socket that takes it at once);
  // false when the transport is gone (the feed stops). The packet is the
  // reader's envelope around the room's shared content (make_delta_pieces).
  // `catch_up`: a piece of the catch-up, not counted as falling behind.
  virtual bool deliver(uint64_t pos, http::StreamBytes packet, Callback written,
                       bool catch_up) = 0;
  // Ends the transport of a reader that fell behind (SSE: closes the
  // connection; WebSocket: close 1013). The feed stops after it.
  virtual void cut_off() = 0;
  // Keeps an idle transport alive (SSE sends a comment); default nothing.
  virtual void heartbeat() {}
  // Ends the transport because the server is stopping, telling the reader
  // to come back soon (SSE: a short `retry:`, then closes; WebSocket: close
  // 1012). The feed has stopped before it.
  virtual void server_stopping() = 0;

 private:
  enum class Ending {
    gone,      // the transport is gone or was stopped (stop())
    behind,    // the reader fell behind: cut_off()
    stopping,  // the server is stopping (Room::stop_readers): server_stopping()
  };
  // The one way a feed ends, once: stops waiting, lets the cid expire, then
  // does what that ending does. Later calls do nothing.
  void end(Ending how);
  // `after_write`: called once the last packet was written (written()).
  void pump(bool after_write);
  void count_batch();
  // room_->wait() at `pos`; registered_ says whether it took.
  bool wait_at(uint64_t pos);
  void arm_timer();
  void on_timer();
  bool send_packet(const Delta& d);
  bool send_delta(const Delta& d, bool after_write);
  void written();

  std::shared_ptr<Room> room_;
  Transport transport_;
  boost::asio::any_io_executor strand_;
  uint64_t pos_;
  PacketFormat format_;
  CometConfig timing_;
  TimeSource& time_;
  std::unique_ptr<Timer> timer_;
  Cid cid_ = kExpiredCid;
  size_t last_nc_ = 0;
  int in_flight_ = 0;              // packets handed to the transport, not yet written
  bool held_ = false;              // news may have come while a packet was in flight
  bool registered_ = false;        // the room accepted its wait() and has not woken it since
  bool catching_up_ = true;        // the catch-up's last piece is not sent yet
  bool in_pieces_ = false;         // the last packet sent had more after it
  bool ping_due_ = false;          // nc changed while a packet was being written
  uint64_t written_sequence_ = 0;  // the room's last post when the last packet was made
  uint64_t epoch_ = 0;             // the room's epoch at the last delta (live/delta_cache.h)
  int batches_ = 0;                // commit batches published while the last packet was being written
  bool stopped_ = false;
  bool counted_ = false;  // in the room's readers (RoomMetrics), until stop()
};

}  // namespace chaton::live
