// Server-Sent Events: see event_stream.h.
#include "live/event_stream.h"

#include <charconv>
#include <cstring>
#include <string>

#include "http/responses.h"
#include "live/room_feed.h"

namespace chaton::live {

using http::ExchangePtr;
using http::kServerName;
using http::Response;
namespace bhttp = boost::beast::http;

namespace {

constexpr std::string_view kRetryMillis = "retry: 5000\n\n";  // reconnect delay for EventSource
constexpr std::string_view kHeartbeat = ": keepalive\n\n";

class EventStream final : public RoomFeed {
 public:
  EventStream(std::shared_ptr<Room> room, const ExchangePtr& ex, uint64_t pos, PacketFormat format,
              const CometConfig& timing, TimeSource& time)
      : RoomFeed(std::move(room), ex->executor(), pos, format, timing, time, Transport::sse) {}

  // Starts the stream on `ex`; from then on the feed keeps the stream
  // alone, not the Exchange (the request in it), for the reader's whole life.
  void begin(const ExchangePtr& ex) {
    ex->release_request_fields();  // read by now; the Exchange goes once the handler returns
    Response header{bhttp::status::ok, 11};
    header.set(bhttp::field::server, kServerName);
    header.set(bhttp::field::content_type, "text/event-stream; charset=utf-8");
    header.set(bhttp::field::cache_control, "no-cache");
    header.set("X-Accel-Buffering", "no");
    header.set("X-Content-Type-Options", "nosniff");
    stream_ = ex->start_stream(std::move(header));
    stream_.push(std::make_shared<const std::string>(kRetryMillis));
    auto self = std::static_pointer_cast<EventStream>(shared_from_this());
    ex->watch_disconnect([self] { self->stop(); });
    start(ex->client_address());
  }

 private:
  // The event is `id: POS`, `data: ` and the packet (one line: JSON has no
  // raw newline), then a blank line. The framing goes into the packet's own
  // head and tail; the room's content stays shared.
  bool deliver(uint64_t pos, http::StreamBytes packet, Callback written,
               bool catch_up) override {
    char id[48];
    auto [end, ec] = std::to_chars(id + 4, id + sizeof id - 7, pos);
    std::memcpy(id, "id: ", 4);
    std::memcpy(end, "\ndata: ", 7);
    packet.head.insert(0, id, static_cast<size_t>(end + 7 - id));
    packet.tail += "\n\n";
    return stream_.push(std::move(packet), std::move(written), catch_up);
  }

  void cut_off() override { stream_.cut(); }
  // A short reconnect delay, then the end of the stream once it is written
  // (docs/PROTOCOL.md, "When the server stops").
  void server_stopping() override {
    static const auto retry =
        std::make_shared<const std::string>("retry: " + std::to_string(kStoppingRetryMillis) + "\n\n");
    if (!stream_.push(retry, [stream = stream_] { stream.cut(); })) stream_.cut();
  }

  void heartbeat() override {
    if (!stream_.push(std::make_shared<const std::string>(kHeartbeat))) stop();
  }

  http::ResponseStream stream_;
};

}  // namespace

void start_event_stream(std::shared_ptr<Room> room, const ExchangePtr& ex, uint64_t pos, PacketFormat format,
                        const CometConfig& timing, TimeSource& time) {
  auto stream = std::make_shared<EventStream>(std::move(room), ex, pos, format, timing, time);
  stream->begin(ex);
}

}  // namespace chaton::live
