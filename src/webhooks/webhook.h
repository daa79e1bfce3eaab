// Outgoing webhooks: every new post of a room is POSTed as JSON to each URL
// configured for it ([[room.webhook]] url = "…", docs/WEBHOOKS.md):
//
//   {"room":"lobby","nick":"shiro","time":"2024-11-24T12:26:40.123456Z",
//    "sec":1732451200,"usec":123456,"text":"hello","permalink":"http://…#entry-…"}
//
// The Dispatcher never slows posting: publish() only appends to a bounded
// queue per URL (when full the oldest post is dropped and logged) and wakes
// the dispatcher's own thread, which delivers each URL's posts in order, one
// at a time. A delivery that fails (network error, timeout, non-2xx) is
// retried after 1 s, 2 s, 4 s … (capped) up to max_attempts, then given up
// and logged; the next post is tried after it.
//
// Thread-safety: publish() and stats() from any thread. stop() (and the
// destructor) end the thread, abandoning what is still queued.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "messages/post.h"

namespace chaton {
class Room;
}

namespace chaton::webhooks {

struct WebhookOptions {
  size_t queue_limit = 1000;                    // posts waiting per URL
  int max_attempts = 8;                         // deliveries of one post before giving up
  std::chrono::milliseconds first_retry{1000};  // doubled after each failure ...
  std::chrono::milliseconds max_retry{60000};   // ... up to this
  std::chrono::milliseconds timeout{10000};     // one delivery attempt
};

struct WebhookStats {
  uint64_t delivered = 0;  // posts a receiver accepted (2xx)
  uint64_t attempts = 0;   // requests sent, successful or not
  uint64_t given_up = 0;   // posts abandoned after max_attempts
  uint64_t dropped = 0;    // posts pushed out of a full queue
};

using LogFn = std::function<void(std::string_view line)>;

// The JSON body for one post of room `slug` at `room_url` (ends with '/').
std::string webhook_json(std::string_view slug, std::string_view room_url, const Post& post);
// "2024-11-24T12:26:40.123456Z"
std::string format_rfc3339(int64_t sec, int64_t usec);

class Dispatcher {
 public:
  // `log` gets one line per problem (default: the server log, util/log.h, at warning level).
  Dispatcher(std::string slug, std::string room_url, std::vector<std::string> urls,
             WebhookOptions options = {}, LogFn log = {});
  ~Dispatcher();
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  void publish(std::span<const Post> posts);
  void stop();
  WebhookStats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Starts a Dispatcher for the room's configured webhooks and subscribes it
// to the room's published posts; nullptr when the room has none. The room
// keeps the dispatcher alive; the returned pointer is for stats and tests.
std::shared_ptr<Dispatcher> attach_webhooks(Room& room, WebhookOptions options = {}, LogFn log = {});

}  // namespace chaton::webhooks
