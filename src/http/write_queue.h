// WriteQueue: the bounded queue of bytes waiting to go out on one
// connection, shared by the HTTP session (a stream: Server-Sent Events) and
// the WebSocket session (text frames). Each piece is a per-reader head and
// tail around a shared immutable payload (StreamBytes), which the writer
// sends with one gathered write, so a payload shared by many readers is
// never copied per reader. It writes pieces one at a time through the
// session's writer, and runs each piece's `written` callback once its bytes
// are out, in queue order.
//
// Two bounds hold while a piece waits. Against the queue's own bound
// (kMaxStreamQueueBytes for the sessions): a reader whose queue would grow
// past it cannot keep up and is cut, so its memory never grows without
// bound; a piece marked `catch_up` (a piece of the backlog a reader asked
// for, sent one piece at a time) is not counted, since catching up is not
// falling behind. And against its address's byte budget (ConnectionLimiter,
// docs/SECURITY.md, "Slow, idle and long-lived connections"): every piece,
// catch-up included, is charged there until it is written or dropped, and
// the charge is given back exactly once. A piece that passes either bound
// is refused, the queue takes no more, and the session cuts its reader.
//
// Thread-safety: open(), close() and push() from any thread; push() counts
// the piece at once (so the bound holds however fast pieces come) and queues
// it on the strand (`executor`): at once when called there, else through
// the executor. start() and stop(), the writer and
// its completion, and every `written` callback run on that strand.
// Lifetime: the queue belongs to its session. The `owner` passed to push()
// and the writer's pending completion must keep the session (and so the
// queue) alive; the writer and the error callback must not own it (they
// are held by the queue). The ticket is held by the queue.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/buffer.hpp>

#include "access/connection_limiter.h"
#include "util/callback.h"

namespace chaton::http {

// The most bytes queued for a stream or WebSocket reader beyond catch-up.
inline constexpr size_t kMaxStreamQueueBytes = 1 << 20;

// The bytes of one piece: `head`, then `*shared` (when not null), then
// `tail`. The head and tail are the reader's own (an SSE event's `id:` and
// `data:` lines, a packet's envelope); the shared payload is immutable and
// may be held by many pieces at once (a room's rendered posts), and stays
// alive through the shared_ptr until the piece is written or dropped.
struct StreamBytes {
  StreamBytes() = default;
  StreamBytes(std::shared_ptr<const std::string> whole) : shared(std::move(whole)) {}  // NOLINT: implicit
  StreamBytes(std::string head_bytes, std::shared_ptr<const std::string> shared_bytes, std::string tail_bytes)
      : head(std::move(head_bytes)), shared(std::move(shared_bytes)), tail(std::move(tail_bytes)) {}

  std::string head;
  std::shared_ptr<const std::string> shared;  // may be null
  std::string tail;

  size_t size() const { return head.size() + (shared ? shared->size() : 0) + tail.size(); }
  // The three parts as one buffer sequence (for one gathered write).
  std::array<boost::asio::const_buffer, 3> buffers() const {
    return {boost::asio::buffer(head), shared ? boost::asio::buffer(*shared) : boost::asio::const_buffer(),
            boost::asio::buffer(tail)};
  }
  // The bytes as one string (tests, logs).
  std::string joined() const {
    std::string out;
    out.reserve(size());
    out += head;
    if (shared) out += *shared;
    out += tail;
    return out;
  }
};

// Bytes queued on a connection, and what to run on its strand once they
// are written (may be empty): a reader that waits for it sends what came
// meanwhile as one packet instead of queueing one per post.
struct StreamChunk {
  StreamBytes bytes;
  Callback written;
  bool catch_up = false;             // not counted against the queue's bound
  ConnectionLimiter::Charge charge;  // its bytes, charged to the address while queued
};

class WriteQueue {
 public:
  // Called once a write ends: true when all its bytes were written.
  using Done = std::function<void(bool ok)>;
  // Starts writing `bytes` (which stay alive until `done` runs), all its
  // parts in one gathered write, and calls `done` on the strand when the
  // write ends, which may be before it returns (the socket took it at
  // once). One write at a time.
  using Writer = std::function<void(const StreamBytes& bytes, Done done)>;

  enum class Pushed {
    queued,  // counted; it will be written unless the queue stops first
    closed,  // the queue takes no more pieces (not open, closed or cut)
    over,    // past the queue's bound or the address's budget: cut the reader
  };

  // `on_failed` runs on the strand when a write fails, after the queue has
  // stopped. `ticket` may be null (no per-address budget).
  WriteQueue(boost::asio::any_io_executor executor, size_t max_queued_bytes,
             std::shared_ptr<ConnectionLimiter::Ticket> ticket, Writer writer,
             std::function<void()> on_failed);
  WriteQueue(const WriteQueue&) = delete;
  WriteQueue& operator=(const WriteQueue&) = delete;

  // Any thread. Pieces are taken from open() until close(), stop() or the
  // first piece over a bound; close() lets what is queued go out.
  void open() { accepting_.store(true); }
  void close() { accepting_.store(false); }
  bool is_open() const { return accepting_.load(); }
  // Strand, while the queue is not open: whose budget pieces are charged to
  // from now on (a proxied connection's client, known from its request).
  void charge_to(std::shared_ptr<ConnectionLimiter::Ticket> ticket) { ticket_ = std::move(ticket); }

  // Any thread: counts `piece` (its `charge` is set here) and queues it on
  // the strand (at once when called there: the writer may start writing it
  // before push() returns), `owner` keeping the queue alive until then.
  [[nodiscard]] Pushed push(StreamChunk piece, std::shared_ptr<void> owner);

  // Strand: the writer may write from now on (the HTTP session first sends
  // its response header); pieces queued before wait until then.
  void start();
  // Strand: takes no more pieces and writes no more; what is queued is
  // dropped, its callbacks let go of (they hold the reader) and its
  // charges given back. A write in flight keeps its bytes until it ends.
  void stop();

  // Bytes counted against the bound now (catch-up excluded).
  size_t queued_bytes() const { return queued_bytes_.load(); }
  // Strand: how many pieces the memory held for waiting pieces has room
  // for (none while nothing waits behind a write).
  size_t piece_capacity() const { return queue_.capacity(); }

 private:
  void enqueue(StreamChunk piece);
  void write_next();
  void write(StreamChunk piece);
  void on_written(bool ok);
  void end_write(bool ok);
  void uncount(StreamChunk& piece);

  boost::asio::any_io_executor executor_;
  size_t max_queued_bytes_;
  std::shared_ptr<ConnectionLimiter::Ticket> ticket_;
  Writer writer_;
  std::function<void()> on_failed_;
  std::atomic<size_t> queued_bytes_{0};
  std::atomic<bool> accepting_{false};
  // On the strand: the pieces waiting are queue_[head_...]. A piece that
  // comes when nothing is queued or being written is written at once,
  // without passing through it; pieces that wait behind a write go here,
  // and the vector's memory is let go of when its last piece is taken
  // (a deque would allocate its first block even while empty): a waiting
  // reader's queue holds no memory for pieces.
  std::vector<StreamChunk> queue_;
  size_t head_ = 0;
  std::optional<StreamChunk> writing_;  // the piece being written (or, in write()'s loop, about to be)
  bool started_ = false;
  bool stopped_ = false;
  // The writer may end a piece before it returns: see write().
  bool looping_ = false;           // write()'s loop is running
  bool in_writer_ = false;         // inside the writer's call
  std::optional<bool> ended_now_;  // how the piece the writer has just ended went
};

}  // namespace chaton::http
