// LongPoll: see long_poll.h for the states and how one ends.
#include "live/long_poll.h"

#include <array>

#include <boost/asio/post.hpp>

#include "http/prepared_response.h"
#include "http/responses.h"
#include "live/delta_cache.h"
#include "live/delta_packet.h"
#include "live/wake_loop.h"
#include "util/block_cache.h"

namespace chaton::live {

using http::ExchangePtr;
using http::make_response;
using http::PreparedResponse;
using http::Response;
using http::ResponseHead;
namespace bhttp = boost::beast::http;

namespace net = boost::asio;

namespace {

ResponseHead make_reply_head(PacketFormat format) {
  Response res = make_response(bhttp::status::ok, content_type(format), "");
  res.set(bhttp::field::cache_control, "no-cache");
  return ResponseHead(res);
}

// A reply's header in each format: rendered once, shared by every reply
// (static: no reference count, which every loop's replies would write).
const ResponseHead* reply_head(PacketFormat format) {
  static const std::array<ResponseHead, 3> heads{make_reply_head(PacketFormat::web),
                                                 make_reply_head(PacketFormat::json),
                                                 make_reply_head(PacketFormat::sexpr)};
  static_assert(static_cast<size_t>(PacketFormat::web) == 0 && static_cast<size_t>(PacketFormat::json) == 1 &&
                static_cast<size_t>(PacketFormat::sexpr) == 2);
  return &heads[static_cast<size_t>(format)];
}

class LongPoll final : public Waiter, public std::enable_shared_from_this<LongPoll> {
 public:
  LongPoll(std::shared_ptr<Room> room, ExchangePtr ex, const CometRequest& req, const CometConfig& timing,
           TimeSource& time)
      : Waiter(wake_loop_of(ex->executor())),
        room_(std::move(room)),
        ex_(std::move(ex)),
        pos_(req.pos),
        format_(req.format),
        timing_(timing),
        time_(time),
        timer_(time.make_timer(ex_->executor())) {}

  // `may_check`: a cid unknown here may come from another node (a shared
  // store): ask, then begin again without asking (Room::admit).
  void begin(std::optional<Cid> cid, bool may_check = true) {
    // A request that waits (most of a reader's life) needs none of its
    // fields any more, and one answered at once needs only what the
    // exchange keeps for the reply.
    ex_->release_request_fields();
    // Most requests find nothing new: admitted, they wait at once, in one
    // take of the room's lock. A wake-up comes through this request's
    // executor, so it runs after begin() returns.
    auto entrance = room_->admit_and_wait(cid, ex_->client_address(), may_check, pos_, shared_from_this());
    const CidTable::Admission& adm = entrance.admission;
    if (adm.unchecked) {
      return room_->check_cid(*cid, [self = shared_from_this(), cid] {
        net::post(self->ex_->executor(), [self, cid] { self->begin(cid, false); });
      });
    }
    cid_ = adm.cid;
    if (cid_ == kExpiredCid) return finish(Outcome::expired);
    // The epoch its cid is current in, or one that is never the room's: a
    // client from before a reload is not given a delta kept for others.
    epoch_ = entrance.epoch;
    if (!entrance.waiting) {
      // Not waiting: a new cid, which is news (the client learns it at
      // once), or a pos the room is not at. Then there is news, unless
      // wait() below accepts it after all (a reader from a node further
      // ahead waits for the catch-up) or refuses with what came meanwhile.
      Delta d = delta_for(*room_, cid_, pos_, format_, epoch_);
      if (is_news(d) || adm.reallocated) return finish(Outcome::news, d);
      // A wait() that succeeds finds the cid current in this epoch or a
      // later one (it refuses a cid from before a reload); one that
      // refuses must not pass it for current, so epoch_ is set only after.
      uint64_t epoch = room_->epoch();
      if (!wait()) return;
      epoch_ = epoch;
    }
    counted_ = true;  // a waiting reader until finish()
    room_->metrics().readers(Transport::long_poll).add();
    hard_deadline_ =
        time_.monotonic_now() + random_between(time_, seconds_as_duration(timing_.hard_timeout_min),
                                               seconds_as_duration(timing_.hard_timeout_max));
    nc_at_start_ = room_->num_chatters();
    arm_timer();
    ex_->watch_disconnect([self = shared_from_this()] { self->on(Event::gone); });
  }

  void wake() override {
    net::post(ex_->executor(), [self = shared_from_this()] { self->woken(); });
  }
  void woken() override { on(Event::wake); }

 private:
  enum class Event { wake, timer, gone };
  enum class Outcome { news, timeout, expired, duplicate, gone, stopping };

  // Every event after begin() comes through here; once it has ended, none
  // has an effect (a wake-up or a timer may already be queued on the strand
  // when another event ends it).
  void on(Event e) {
    if (done_) return;
    switch (e) {
      case Event::wake:
        return on_wake();
      case Event::timer:
        return on_timer();
      case Event::gone:
        return finish(Outcome::gone);
    }
  }

  // A wake-up with news ends it, and finish() learns in the same take of
  // the lock whether a newer request dropped its cid meanwhile (then it
  // ends as a duplicate). One without news asks before waiting again.
  void on_wake() {
    Delta d = delta_for(*room_, cid_, pos_, format_, epoch_);
    if (is_news(d)) return finish(Outcome::news, d);
    if (!room_->cid_alive(cid_)) return finish(Outcome::duplicate);
    wait();
  }

  void on_timer() {
    if (!room_->cid_alive(cid_)) return finish(Outcome::duplicate);
    if (time_.monotonic_now() >= hard_deadline_ || room_->num_chatters() != nc_at_start_)
      return finish(Outcome::timeout, delta_for(*room_, cid_, pos_, format_, epoch_));
    arm_timer();
  }

  // Waits on the room; false when the room moved on meanwhile, or the
  // server is stopping (the request then ended with what came).
  bool wait() {
    if (room_->wait(cid_, pos_, shared_from_this())) return true;
    Delta d = delta_for(*room_, cid_, pos_, format_, epoch_);
    finish(!is_news(d) && room_->stopping() ? Outcome::stopping : Outcome::news, d);
    return false;
  }

  // What must be sent at once: posts, a view to clear, or a start over
  // after a moderation, which in JSON and S-expressions is the new pos
  // with what came since (docs/PROTOCOL.md), possibly nothing.
  static bool is_news(const Delta& d) { return d.has_posts || d.refresh || d.started_over; }

  void arm_timer() {
    MonoDuration soft = random_between(time_, seconds_as_duration(timing_.soft_timeout_min),
                                       seconds_as_duration(timing_.soft_timeout_max));
    MonoDuration to_hard = hard_deadline_ - time_.monotonic_now();
    timer_->arm(std::min(soft, to_hard), [self = shared_from_this()] { self->on(Event::timer); });
  }

  // The one way a long-poll ends (called once: begin() and on() call it
  // only while it has not ended). `d`: what a news or timeout reply carries.
  void finish(Outcome how, const std::optional<Delta>& d = std::nullopt) {
    done_ = true;
    timer_->cancel();
    if (d && d->started_over && !renewed_) return renew_then_finish(how, *d);
    // Every ending but these two is a reply, or a client gone: no longer
    // waiting, the cid expires unless it returns.
    bool alive = room_->unwait(cid_, this, /*replied=*/how != Outcome::expired && how != Outcome::duplicate);
    // A reply to a request whose cid a newer request dropped is not sent:
    // it ends as a duplicate (docs/PROTOCOL.md, "The comet long-poll").
    bool reply = how == Outcome::news || how == Outcome::timeout || how == Outcome::stopping;
    if (reply && !alive) how = Outcome::duplicate;
    if (counted_) room_->metrics().readers(Transport::long_poll).sub();
    switch (how) {
      case Outcome::news:
      case Outcome::timeout:
      case Outcome::stopping: {  // an empty reply: the client asks again (docs/PROTOCOL.md)
        room_->metrics().delivered(Transport::long_poll).add(d->posts);
        // The envelope is this reader's; the content is the room's, shared.
        DeltaPieces p = make_delta_pieces(*room_, *d, cid_, format_);
        // The tail from its static storage: the reply holds a view of it.
        return send(std::move(p.bytes.head), std::move(p.bytes.shared), packet_tail(format_, p.header));
      }
      case Outcome::expired:
        return send(expired_packet(*room_, format_), nullptr, {});
      case Outcome::duplicate:
        return ex_->abandon();
      case Outcome::gone:
        return;
    }
  }

  // A reader started over after a moderation goes on under the new cid
  // Room::renew_cid gives it on several nodes, which the reply tells it
  // once the other nodes know it (docs/SCALING.md, "Moderation"). Events
  // meanwhile have no effect (done_); the reply comes through finish().
  void renew_then_finish(Outcome how, Delta d) {
    renewed_ = true;
    cid_ = room_->renew_cid(cid_, [self = shared_from_this(), how, d = std::move(d)] {
      net::post(self->ex_->executor(), [self, how, d] { self->finish(how, d); });
    });
  }

  // The reply: `before`, `shared`, `after` as its body, under the format's
  // header (rendered once).
  void send(std::string before, std::shared_ptr<const std::string> shared, std::string_view after) {
    ex_->respond(PreparedResponse{reply_head(format_), std::move(before), std::move(shared), after});
  }

  std::shared_ptr<Room> room_;
  ExchangePtr ex_;
  Cid cid_ = kExpiredCid;
  uint64_t pos_;
  uint64_t epoch_ = 0;  // the room's epoch at the last delta (live/delta_cache.h)
  PacketFormat format_;
  CometConfig timing_;
  TimeSource& time_;
  std::unique_ptr<Timer> timer_;
  MonoTime hard_deadline_{};
  size_t nc_at_start_ = 0;
  bool done_ = false;     // set by finish() alone
  bool counted_ = false;  // in the room's waiting long-polls (RoomMetrics::readers)
  bool renewed_ = false;  // renew_then_finish() ran: the next finish() replies
};

}  // namespace

void start_long_poll(std::shared_ptr<Room> room, const ExchangePtr& ex, const CometRequest& req,
                     const CometConfig& timing, TimeSource& time) {
  auto lp = make_cached_shared<LongPoll>(std::move(room), ex, req, timing, time);
  lp->begin(req.cid);
}

}  // namespace chaton::live
