// A room over WebSocket: see ws_room.h.
#include "http/ws_room.h"

#include <boost/json.hpp>

#include "http/post_result.h"
#include "http/responses.h"
#include "http/room_feed.h"

namespace chaton::http {

namespace json = boost::json;

namespace {

class WsRoomPeer;

// The feed runs on the channel's strand, which exists only once the
// connection is open, so the peer creates it then.
class WsFeed final : public RoomFeed {
 public:
  WsFeed(std::shared_ptr<Room> room, std::shared_ptr<WsChannel> channel, uint64_t pos,
         const CometConfig& timing)
      : RoomFeed(std::move(room), channel->executor(), pos, timing), channel_(channel) {}

 private:
  bool deliver(uint64_t, std::shared_ptr<const std::string> packet) override {
    auto ch = channel_.lock();
    return ch && ch->send(std::move(packet));
  }
  std::weak_ptr<WsChannel> channel_;
};

class WsRoomPeer final : public WsPeer {
 public:
  WsRoomPeer(std::shared_ptr<Room> room, uint64_t pos, std::string address, const CometConfig& timing)
      : room_(std::move(room)), pos_(pos), address_(std::move(address)), timing_(timing) {}

  void on_open(std::shared_ptr<WsChannel> channel) override {
    channel_ = channel;
    feed_ = std::make_shared<WsFeed>(room_, channel, pos_, timing_);
    feed_->start();
  }

  void on_message(std::string_view text) override {
    boost::system::error_code ec;
    json::value v = json::parse(text, ec);
    const json::object* o = (!ec && v.is_object()) ? &v.as_object() : nullptr;
    const json::value* nick = o ? o->if_contains("nick") : nullptr;
    const json::value* body = o ? o->if_contains("text") : nullptr;
    if (!nick || !body || !nick->is_string() || !body->is_string())
      return reply(error_json(400, "malformed message: send {\"nick\":\"…\",\"text\":\"…\"}"));
    std::weak_ptr<WsChannel> channel = channel_;
    std::string url = room_->settings().url;
    room_->post(std::string(nick->as_string()), std::string(body->as_string()), address_,
                [channel, url](Result<Post> r) {
                  auto ch = channel.lock();
                  if (!ch) return;
                  std::string answer =
                      r ? "{\"posted\":" + posted_json(r.value(), url) + "}"
                        : error_json(static_cast<unsigned>(status_for(r.status().code())),
                                     r.status().message());
                  ch->send(std::make_shared<const std::string>(std::move(answer)));
                });
  }

  void on_close() override {
    if (feed_) feed_->stop();
  }

 private:
  void reply(std::string text) {
    if (auto ch = channel_.lock()) ch->send(std::make_shared<const std::string>(std::move(text)));
  }

  std::shared_ptr<Room> room_;
  uint64_t pos_;
  std::string address_;
  CometConfig timing_;
  std::weak_ptr<WsChannel> channel_;
  std::shared_ptr<WsFeed> feed_;
};

}  // namespace

std::shared_ptr<WsPeer> make_ws_room_peer(std::shared_ptr<Room> room, uint64_t pos,
                                          std::string client_address, const CometConfig& timing) {
  return std::make_shared<WsRoomPeer>(std::move(room), pos, std::move(client_address), timing);
}

}  // namespace chaton::http
