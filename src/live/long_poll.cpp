// LongPoll: see long_poll.h for the states and how one ends.
#include "live/long_poll.h"

#include <chrono>
#include <random>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "http/responses.h"

namespace chaton::http {

namespace net = boost::asio;
using steady = std::chrono::steady_clock;

namespace {

steady::duration random_between(double lo, double hi) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uniform_real_distribution<double> dist(lo, hi);
  return std::chrono::duration_cast<steady::duration>(
      std::chrono::duration<double>(lo < hi ? dist(rng) : lo));
}

class LongPoll final : public Waiter, public std::enable_shared_from_this<LongPoll> {
 public:
  LongPoll(std::shared_ptr<Room> room, ExchangePtr ex, const CometRequest& req,
           const CometConfig& timing)
      : room_(std::move(room)),
        ex_(std::move(ex)),
        pos_(req.pos),
        format_(req.format),
        timing_(timing),
        timer_(ex_->executor()) {}

  void begin(std::optional<Cid> cid) {
    auto adm = room_->admit(cid, ex_->client_address());
    cid_ = adm.cid;
    if (cid_ == kExpiredCid) return send_expired();
    Delta d = room_->delta_since(cid_, pos_, format_);
    if (d.has_posts || d.refresh) return reply(d);
    if (adm.reallocated) return reply(d);  // tell the client its new cid
    if (!room_->wait(cid_, pos_, shared_from_this())) return reply(room_->delta_since(cid_, pos_, format_));
    hard_deadline_ = steady::now() + random_between(timing_.hard_timeout_min, timing_.hard_timeout_max);
    nc_at_start_ = room_->num_chatters();
    arm_timer();
    ex_->watch_disconnect([self = shared_from_this()] { self->on_gone(); });
  }

  void wake() override {
    net::post(ex_->executor(), [self = shared_from_this()] { self->on_wake(); });
  }

 private:
  void on_wake() {
    if (done_) return;
    if (!room_->cid_alive(cid_)) return abandon();
    Delta d = room_->delta_since(cid_, pos_, format_);
    if (d.has_posts || d.refresh) return reply(d);
    if (!room_->wait(cid_, pos_, shared_from_this())) reply(room_->delta_since(cid_, pos_, format_));
  }

  void arm_timer() {
    auto next = steady::now() + random_between(timing_.soft_timeout_min, timing_.soft_timeout_max);
    timer_.expires_at(std::min(next, hard_deadline_));
    timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (!ec) self->on_timer();
    });
  }

  void on_timer() {
    if (done_) return;
    if (!room_->cid_alive(cid_)) return abandon();
    if (steady::now() >= hard_deadline_ || room_->num_chatters() != nc_at_start_)
      return reply(room_->delta_since(cid_, pos_, format_));
    arm_timer();
  }

  void on_gone() {
    if (done_) return;
    done_ = true;
    timer_.cancel();
    room_->unwait(cid_, this);
    room_->replied(cid_);  // no longer waiting: it expires unless it returns
  }

  void abandon() {
    done_ = true;
    timer_.cancel();
    room_->unwait(cid_, this);
    ex_->abandon();
  }

  void reply(const Delta& d) {
    done_ = true;
    timer_.cancel();
    room_->unwait(cid_, this);
    room_->replied(cid_);
    PacketHeader h;
    h.pos = d.pos;
    h.nc = room_->num_chatters();
    h.ver = room_->settings().version;
    h.cid = cid_;
    h.refresh = d.refresh;
    send(wrap_packet(format_, h, *d.content));
  }

  void send_expired() {
    done_ = true;
    PacketHeader h;
    h.pos = 0;
    h.nc = room_->num_chatters();
    h.ver = room_->settings().version;
    h.cid = kExpiredCid;
    send(wrap_packet(format_, h, empty_content(format_)));
  }

  void send(std::string body) {
    Response res = make_response(bhttp::status::ok, content_type(format_), std::move(body));
    res.set(bhttp::field::cache_control, "no-cache");
    ex_->respond(std::move(res));
  }

  std::shared_ptr<Room> room_;
  ExchangePtr ex_;
  Cid cid_ = kExpiredCid;
  uint64_t pos_;
  PacketFormat format_;
  CometConfig timing_;
  net::steady_timer timer_;
  steady::time_point hard_deadline_{};
  size_t nc_at_start_ = 0;
  bool done_ = false;
};

}  // namespace

void start_long_poll(std::shared_ptr<Room> room, const ExchangePtr& ex, const CometRequest& req,
                     const CometConfig& timing) {
  auto lp = std::make_shared<LongPoll>(std::move(room), ex, req, timing);
  lp->begin(req.cid);
}

}  // namespace chaton::http
