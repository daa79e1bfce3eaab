// A room over WebSocket: see ws_room.h.
#include "live/ws_room.h"

#include "http/responses.h"
#include "live/post_json.h"
#include "live/post_result.h"
#include "live/room_feed.h"

namespace chaton::live {

using http::kWsCloseServiceRestart;
using http::kWsCloseTryAgainLater;
using http::kWsRestartReason;
using http::kWsTooSlowReason;
using http::status_for;
using http::WsChannel;
using http::WsPeer;

namespace {

class WsRoomPeer;

// The feed runs on the channel's strand, which exists only once the
// connection is open, so the peer creates it then.
class WsFeed final : public RoomFeed {
 public:
  WsFeed(std::shared_ptr<Room> room, std::shared_ptr<WsChannel> channel, uint64_t pos,
         const CometConfig& timing, TimeSource& time)
      : RoomFeed(std::move(room), channel->executor(), pos, PacketFormat::json, timing, time,
                 Transport::websocket),
        channel_(std::move(channel)) {}

 private:
  bool deliver(uint64_t, http::StreamBytes packet, Callback written, bool catch_up) override {
    auto ch = channel_.lock();
    return ch && ch->send(std::move(packet), std::move(written), catch_up);
  }

  void cut_off() override {
    if (auto ch = channel_.lock()) ch->close(kWsCloseTryAgainLater, kWsTooSlowReason);
  }
  void server_stopping() override {
    if (auto ch = channel_.lock()) ch->close(kWsCloseServiceRestart, kWsRestartReason);
  }
  std::weak_ptr<WsChannel> channel_;
};

class WsRoomPeer final : public WsPeer {
 public:
  WsRoomPeer(std::shared_ptr<Room> room, uint64_t pos, std::string address, const CometConfig& timing,
             TimeSource& time)
      : room_(std::move(room)), pos_(pos), address_(std::move(address)), timing_(timing), time_(time) {}

  void on_open(std::shared_ptr<WsChannel> channel) override {
    channel_ = channel;
    feed_ = std::make_shared<WsFeed>(room_, channel, pos_, timing_, time_);
    feed_->start(address_);
  }

  void on_message(std::string_view text) override {
    auto fields = parse_post_json(text);
    if (!fields) return reply(error_json(400, fields.status().message()));
    std::weak_ptr<WsChannel> channel = channel_;
    std::string url = room_->settings().url;
    room_->post(fields->nick, fields->text, address_, [channel, url](Result<Post> r) {
      auto ch = channel.lock();
      if (!ch) return;
      std::string answer =
          r ? "{\"posted\":" + posted_json(r.value(), url) + "}"
            : error_json(static_cast<unsigned>(status_for(r.status().code())), r.status().message());
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
  TimeSource& time_;
  std::weak_ptr<WsChannel> channel_;
  std::shared_ptr<WsFeed> feed_;
};

}  // namespace

std::shared_ptr<WsPeer> make_ws_room_peer(std::shared_ptr<Room> room, uint64_t pos,
                                          std::string client_address, const CometConfig& timing,
                                          TimeSource& time) {
  return std::make_shared<WsRoomPeer>(std::move(room), pos, std::move(client_address), timing, time);
}

}  // namespace chaton::live
