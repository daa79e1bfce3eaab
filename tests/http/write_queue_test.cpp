// Tests for the bounded write queue (http/write_queue.h), without sockets:
// a fake writer stands for the session and the test completes each write,
// or the writer ends it before it returns (a socket that took it at once).
// The queue's bound, the cut, catch-up pieces, the `written` callbacks and
// the per-address charge.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>

#include <algorithm>
#include <array>
#include <optional>
#include <string>
#include <vector>

#include "http/write_queue.h"

namespace chaton::http {
namespace {

namespace net = boost::asio;

constexpr const char* kAddress = "192.0.2.1";

// One queue, as a session holds it: the writer records each write and
// keeps its completion until the test finishes it.
struct Harness {
  explicit Harness(size_t max_queued, std::shared_ptr<ConnectionLimiter::Ticket> ticket = nullptr)
      : strand(net::make_strand(io)),
        queue(
            strand, max_queued, std::move(ticket),
            [this](const StreamBytes& bytes, WriteQueue::Done done) {
              max_depth = std::max(max_depth, ++depth);
              writes.push_back(bytes.joined());
              shared_written.push_back(bytes.shared.get());
              buffers.push_back(bytes.buffers());
              if (end_at_once)
                done(*end_at_once);  // as a socket that takes the piece whole, or fails, at once
              else
                pending.push_back(std::move(done));
              --depth;
            },
            [this] { ++failures; }) {
    queue.open();
  }

  WriteQueue::Pushed push(std::string bytes, Callback written = {}, bool catch_up = false) {
    return queue.push(
        StreamChunk{std::make_shared<const std::string>(std::move(bytes)), std::move(written), catch_up, {}},
        owner);
  }
  void run() {
    io.restart();
    io.poll();
  }
  // Ends the write in flight (the only one there may be).
  void finish_write(bool ok = true) {
    ASSERT_EQ(pending.size(), 1u) << "one write at a time";
    auto done = std::move(pending.front());
    pending.clear();
    done(ok);
    run();
  }

  net::io_context io;
  net::strand<net::io_context::executor_type> strand;
  std::shared_ptr<int> owner = std::make_shared<int>(0);  // stands for the session
  std::vector<std::string> writes;                        // each write's bytes, joined
  std::vector<const std::string*> shared_written;         // each write's shared payload
  std::vector<std::array<net::const_buffer, 3>> buffers;  // each write's buffer sequence
  std::vector<WriteQueue::Done> pending;
  int failures = 0;
  // Set: the writer ends each write before it returns, so (true) or failed.
  std::optional<bool> end_at_once;
  int depth = 0;      // writer calls under way, one inside another
  int max_depth = 0;  // the most there were

  WriteQueue queue;
};

std::string bytes_of(size_t n, char c = 'x') { return std::string(n, c); }

TEST(WriteQueue, WritesOneAtATimeAndRunsEachCallbackOnceInOrder) {
  Harness h(1000);
  h.queue.start();
  std::vector<int> order;
  for (int i = 1; i <= 3; ++i)
    ASSERT_EQ(h.push("p" + std::to_string(i), [&order, i] { order.push_back(i); }),
              WriteQueue::Pushed::queued);
  h.run();
  ASSERT_EQ(h.writes, std::vector<std::string>{"p1"}) << "the second waits for the first";
  EXPECT_TRUE(order.empty()) << "nothing is written yet";
  h.finish_write();
  EXPECT_EQ(order, std::vector<int>{1});
  EXPECT_EQ(h.writes.size(), 2u);
  h.finish_write();
  h.finish_write();
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(h.writes, (std::vector<std::string>{"p1", "p2", "p3"}));
  EXPECT_TRUE(h.pending.empty());
  EXPECT_EQ(h.queue.queued_bytes(), 0u);
}

// A stream's reader waits most of its life; its queue then holds no memory
// for pieces: not for one that came with nothing ahead of it (written at
// once), nor, once they are written, for those that waited behind a write.
TEST(WriteQueue, AQueueThatWaitsHoldsNoMemoryForPieces) {
  Harness h(1000);
  ASSERT_EQ(h.push("before start"), WriteQueue::Pushed::queued);
  ASSERT_EQ(h.push("and another"), WriteQueue::Pushed::queued);
  h.run();
  h.queue.start();
  h.finish_write();
  EXPECT_EQ(h.queue.piece_capacity(), 0u) << "the last waiting piece is being written";
  h.finish_write();
  ASSERT_EQ(h.push("alone"), WriteQueue::Pushed::queued);
  h.run();
  EXPECT_EQ(h.queue.piece_capacity(), 0u) << "a piece with nothing ahead of it goes straight out";
  ASSERT_EQ(h.push("behind it"), WriteQueue::Pushed::queued);
  h.run();
  EXPECT_GT(h.queue.piece_capacity(), 0u) << "one waits behind the write";
  h.finish_write();
  h.finish_write();
  EXPECT_EQ(h.queue.piece_capacity(), 0u);
  EXPECT_EQ(h.writes, (std::vector<std::string>{"before start", "and another", "alone", "behind it"}));
}

TEST(WriteQueue, APieceIsItsHeadSharedPayloadAndTailInOneGatheredWrite) {
  ConnectionLimiter limiter(10, 10, AddressRanges(), 100000);
  Harness h(1000, limiter.admit(kAddress).ticket);
  h.queue.start();
  auto payload = std::make_shared<const std::string>("[\"shared\"]");
  ASSERT_EQ(
      h.queue.push(StreamChunk{StreamBytes("id: 7\ndata: {", payload, "}\n\n"), {}, false, {}}, h.owner),
      WriteQueue::Pushed::queued);
  ASSERT_EQ(h.queue.push(StreamChunk{StreamBytes("{", payload, "}"), {}, false, {}}, h.owner),
            WriteQueue::Pushed::queued);
  EXPECT_EQ(h.queue.queued_bytes(), 26u + 12u) << "each piece counts its three parts";
  EXPECT_EQ(limiter.buffered(kAddress), 38u);
  h.run();
  ASSERT_EQ(h.writes, std::vector<std::string>{"id: 7\ndata: {[\"shared\"]}\n\n"});
  ASSERT_EQ(h.buffers.size(), 1u);
  EXPECT_EQ(h.buffers[0][1].data(), payload->data()) << "the payload is written from where it is, not copied";
  EXPECT_EQ(h.buffers[0][0].size() + h.buffers[0][1].size() + h.buffers[0][2].size(), 26u);
  EXPECT_EQ(payload.use_count(), 3) << "each queued piece holds the payload until it is written";
  h.finish_write();
  EXPECT_EQ(payload.use_count(), 2);
  h.finish_write();
  EXPECT_EQ(payload.use_count(), 1);
  EXPECT_EQ(h.writes.back(), "{[\"shared\"]}");
  EXPECT_EQ(h.shared_written, (std::vector<const std::string*>{payload.get(), payload.get()}));
  EXPECT_EQ(h.queue.queued_bytes(), 0u);
  EXPECT_EQ(limiter.buffered(kAddress), 0u);
}

TEST(WriteQueue, AQueueThatNeverEmptiesKeepsItsOrder) {
  Harness h(100000);
  h.queue.start();
  int next = 0;
  for (; next < 3; ++next) ASSERT_EQ(h.push("p" + std::to_string(next)), WriteQueue::Pushed::queued);
  h.run();
  for (int round = 0; round < 100; ++round) {  // one more piece comes as each is written
    ASSERT_EQ(h.push("p" + std::to_string(next++)), WriteQueue::Pushed::queued);
    h.run();
    h.finish_write();
  }
  while (!h.pending.empty()) h.finish_write();
  ASSERT_EQ(h.writes.size(), static_cast<size_t>(next));
  for (int i = 0; i < next; ++i) EXPECT_EQ(h.writes[i], "p" + std::to_string(i));
  EXPECT_EQ(h.queue.queued_bytes(), 0u);
}

TEST(WriteQueue, NothingIsWrittenBeforeStart) {
  Harness h(1000);
  ASSERT_EQ(h.push("early"), WriteQueue::Pushed::queued);
  h.run();
  EXPECT_TRUE(h.writes.empty()) << "the response header goes first";
  h.queue.start();
  EXPECT_EQ(h.writes, std::vector<std::string>{"early"});
}

TEST(WriteQueue, APieceOverTheBoundCutsTheReader) {
  Harness h(1000);
  h.queue.start();
  ASSERT_EQ(h.push(bytes_of(600)), WriteQueue::Pushed::queued);
  ASSERT_EQ(h.push(bytes_of(400)), WriteQueue::Pushed::queued) << "exactly at the bound";
  EXPECT_EQ(h.queue.queued_bytes(), 1000u);
  EXPECT_EQ(h.push(bytes_of(1)), WriteQueue::Pushed::over);
  EXPECT_FALSE(h.queue.is_open());
  EXPECT_EQ(h.push(bytes_of(1)), WriteQueue::Pushed::closed) << "a cut queue takes nothing more";
  EXPECT_EQ(h.queue.queued_bytes(), 1000u) << "the refused piece is not counted";
}

TEST(WriteQueue, BytesLeaveTheBoundOnceWritten) {
  Harness h(1000);
  h.queue.start();
  ASSERT_EQ(h.push(bytes_of(700)), WriteQueue::Pushed::queued);
  h.run();
  EXPECT_EQ(h.queue.queued_bytes(), 700u) << "counted while being written";
  h.finish_write();
  EXPECT_EQ(h.queue.queued_bytes(), 0u);
  EXPECT_EQ(h.push(bytes_of(700)), WriteQueue::Pushed::queued);
}

TEST(WriteQueue, CatchUpPiecesAreNotCountedAgainstTheBound) {
  ConnectionLimiter limiter(10, 10, AddressRanges(), 10000);
  Harness h(1000, limiter.admit(kAddress).ticket);
  ASSERT_EQ(h.push(bytes_of(3000), {}, true), WriteQueue::Pushed::queued)
      << "catching up is not falling behind";
  ASSERT_EQ(h.push(bytes_of(1000)), WriteQueue::Pushed::queued);
  EXPECT_EQ(h.queue.queued_bytes(), 1000u);
  EXPECT_EQ(limiter.buffered(kAddress), 4000u) << "but its bytes are charged all the same";
}

TEST(WriteQueue, QueuedPiecesAreChargedToTheAddressUntilWritten) {
  ConnectionLimiter limiter(10, 10, AddressRanges(), 1000);
  Harness h(100000, limiter.admit(kAddress).ticket);
  h.queue.start();
  ASSERT_EQ(h.push(bytes_of(300)), WriteQueue::Pushed::queued);
  ASSERT_EQ(h.push(bytes_of(400), {}, true), WriteQueue::Pushed::queued);
  EXPECT_EQ(limiter.buffered(kAddress), 700u);
  EXPECT_EQ(h.push(bytes_of(400)), WriteQueue::Pushed::over) << "700 + 400 passes the address's budget";
  EXPECT_EQ(limiter.buffered(kAddress), 700u) << "the refused piece holds nothing";
  EXPECT_EQ(h.queue.queued_bytes(), 300u);
  h.run();
  h.finish_write();
  EXPECT_EQ(limiter.buffered(kAddress), 400u);
  h.finish_write();
  EXPECT_EQ(limiter.buffered(kAddress), 0u);
}

TEST(WriteQueue, StopDropsWhatIsQueuedAndGivesItsChargesBack) {
  ConnectionLimiter limiter(10, 10, AddressRanges(), 100000);
  Harness h(100000, limiter.admit(kAddress).ticket);
  h.queue.start();
  auto reader = std::make_shared<int>(0);  // what a callback holds
  int ran = 0;
  for (int i = 0; i < 3; ++i)
    ASSERT_EQ(h.push(bytes_of(100), [reader, &ran] { ++ran; }), WriteQueue::Pushed::queued);
  h.run();
  ASSERT_EQ(h.writes.size(), 1u);
  h.queue.stop();
  EXPECT_EQ(limiter.buffered(kAddress), 0u) << "the connection is closing";
  EXPECT_EQ(reader.use_count(), 1) << "the callbacks are let go of, the one in flight included";
  EXPECT_EQ(h.push(bytes_of(1)), WriteQueue::Pushed::closed);
  h.finish_write(false);  // the write in flight ends after the stop, failed by the close
  EXPECT_EQ(ran, 0) << "no callback runs after a stop";
  EXPECT_EQ(h.failures, 0) << "the session stopped the queue: it is not told again";
  EXPECT_TRUE(h.pending.empty()) << "nothing more is written";
  EXPECT_EQ(h.queue.queued_bytes(), 0u);
}

TEST(WriteQueue, AChargeIsGivenBackExactlyOnce) {
  // Another connection from the same address holds 100 bytes: a charge
  // given back twice would take them from it.
  ConnectionLimiter limiter(10, 10, AddressRanges(), 100000);
  Harness other(100000, limiter.admit(kAddress).ticket);
  ASSERT_EQ(other.push(bytes_of(100)), WriteQueue::Pushed::queued);
  Harness h(100000, limiter.admit(kAddress).ticket);
  h.queue.start();
  ASSERT_EQ(h.push(bytes_of(500)), WriteQueue::Pushed::queued);
  ASSERT_EQ(h.push(bytes_of(500)), WriteQueue::Pushed::queued);
  h.run();
  EXPECT_EQ(limiter.buffered(kAddress), 1100u);
  h.finish_write();  // written: released
  EXPECT_EQ(limiter.buffered(kAddress), 600u);
  h.queue.stop();  // the second, in flight: released at the stop...
  EXPECT_EQ(limiter.buffered(kAddress), 100u);
  h.finish_write();  // ...and not again when its write ends
  h.queue.stop();
  EXPECT_EQ(limiter.buffered(kAddress), 100u);
}

TEST(WriteQueue, APieceArrivingAfterTheStopGivesItsBytesBack) {
  ConnectionLimiter limiter(10, 10, AddressRanges(), 1000);
  Harness h(100000, limiter.admit(kAddress).ticket);
  bool ran = false;
  ASSERT_EQ(h.push(bytes_of(600), [&ran] { ran = true; }), WriteQueue::Pushed::queued);
  EXPECT_EQ(limiter.buffered(kAddress), 600u) << "charged when pushed, before it reaches the strand";
  h.queue.stop();  // the connection closes before the piece is queued
  h.run();
  EXPECT_EQ(limiter.buffered(kAddress), 0u);
  EXPECT_EQ(h.queue.queued_bytes(), 0u);
  EXPECT_TRUE(h.writes.empty());
  EXPECT_FALSE(ran);
}

TEST(WriteQueue, AFailedWriteStopsTheQueueAndTellsTheSessionOnce) {
  ConnectionLimiter limiter(10, 10, AddressRanges(), 100000);
  Harness h(100000, limiter.admit(kAddress).ticket);
  h.queue.start();
  int ran = 0;
  ASSERT_EQ(h.push("a", [&ran] { ++ran; }), WriteQueue::Pushed::queued);
  ASSERT_EQ(h.push("b", [&ran] { ++ran; }), WriteQueue::Pushed::queued);
  h.run();
  h.finish_write(false);
  EXPECT_EQ(h.failures, 1);
  EXPECT_EQ(ran, 0) << "a piece that was not written has no callback run";
  EXPECT_TRUE(h.pending.empty()) << "nothing more is written";
  EXPECT_FALSE(h.queue.is_open());
  EXPECT_EQ(limiter.buffered(kAddress), 0u);
}

TEST(WriteQueue, ACallbackMayStopTheQueue) {
  Harness h(1000);
  h.queue.start();
  ASSERT_EQ(h.push("a", [&h] { h.queue.stop(); }), WriteQueue::Pushed::queued);
  ASSERT_EQ(h.push("b"), WriteQueue::Pushed::queued);
  h.run();
  h.finish_write();
  EXPECT_EQ(h.writes, std::vector<std::string>{"a"});
  EXPECT_TRUE(h.pending.empty());
}

TEST(WriteQueue, CloseLetsWhatIsQueuedGoOut) {
  Harness h(1000);
  h.queue.start();
  bool ran = false;
  ASSERT_EQ(h.push("last", [&ran] { ran = true; }), WriteQueue::Pushed::queued);
  h.queue.close();
  EXPECT_EQ(h.push("more"), WriteQueue::Pushed::closed);
  h.run();
  h.finish_write();
  EXPECT_TRUE(ran);
  EXPECT_EQ(h.writes, std::vector<std::string>{"last"});
}

// A socket that takes every piece at once: the writer ends each write
// before it returns. However many pieces wait, they go out one after the
// other from one loop, not from calls nested one per piece (a deep queue
// would overflow the stack), in order, each callback once.
TEST(WriteQueue, PiecesTheWriterEndsAtOnceGoOutInOrderWithoutNesting) {
  constexpr int kWaiting = 1000;
  Harness h(1 << 20);
  std::vector<int> order;
  for (int i = 0; i < kWaiting; ++i)
    ASSERT_EQ(h.push("p" + std::to_string(i), [&order, i] { order.push_back(i); }),
              WriteQueue::Pushed::queued);
  h.run();  // queued, not yet started
  h.end_at_once = true;
  h.queue.start();
  ASSERT_EQ(h.writes.size(), size_t{kWaiting});
  EXPECT_EQ(h.writes.front(), "p0");
  EXPECT_EQ(h.writes.back(), "p" + std::to_string(kWaiting - 1));
  ASSERT_EQ(order.size(), size_t{kWaiting});
  for (int i = 0; i < kWaiting; ++i) ASSERT_EQ(order[i], i);
  EXPECT_EQ(h.max_depth, 1);
  EXPECT_EQ(h.queue.queued_bytes(), 0u);
  EXPECT_EQ(h.queue.piece_capacity(), 0u) << "emptied, it holds no memory for pieces";
}

// A reader catching up sends its next piece from the last one's callback:
// with a writer that ends each at once, that chain does not nest either.
TEST(WriteQueue, ACatchUpChainEndedAtOnceDoesNotNest) {
  constexpr int kPieces = 1000;
  Harness h(1000);
  h.end_at_once = true;
  h.queue.start();
  int sent = 0;
  std::function<void()> next = [&] {
    if (++sent < kPieces) ASSERT_EQ(h.push("c", next, /*catch_up=*/true), WriteQueue::Pushed::queued);
  };
  ASSERT_EQ(h.push("c", next, /*catch_up=*/true), WriteQueue::Pushed::queued);
  h.run();
  EXPECT_EQ(h.writes.size(), size_t{kPieces});
  EXPECT_EQ(sent, kPieces);
  EXPECT_EQ(h.max_depth, 1);
}

// A write that fails at once stops the queue as one that fails later
// does: the session is told once, what waits is dropped and every charge
// given back.
TEST(WriteQueue, AWriteThatFailsAtOnceStopsTheQueueOnce) {
  ConnectionLimiter limiter(10, 10, AddressRanges(), 1 << 20);
  Harness h(1000, limiter.admit(kAddress).ticket);
  bool ran = false;
  ASSERT_EQ(h.push("a", [&ran] { ran = true; }), WriteQueue::Pushed::queued);
  ASSERT_EQ(h.push("b", [&ran] { ran = true; }), WriteQueue::Pushed::queued);
  h.run();
  EXPECT_EQ(limiter.buffered(kAddress), 2u);
  h.end_at_once = false;
  h.queue.start();
  EXPECT_EQ(h.writes, std::vector<std::string>{"a"});
  EXPECT_EQ(h.failures, 1);
  EXPECT_FALSE(ran);
  EXPECT_EQ(limiter.buffered(kAddress), 0u);
  EXPECT_EQ(h.push("c"), WriteQueue::Pushed::closed);
}

// A callback that stops the queue, in a run of pieces ended at once, ends
// the run: nothing after it is written.
TEST(WriteQueue, ACallbackStoppingTheQueueEndsARunOfPiecesEndedAtOnce) {
  Harness h(1000);
  ASSERT_EQ(h.push("a", [&h] { h.queue.stop(); }), WriteQueue::Pushed::queued);
  ASSERT_EQ(h.push("b"), WriteQueue::Pushed::queued);
  h.run();
  h.end_at_once = true;
  h.queue.start();
  EXPECT_EQ(h.writes, std::vector<std::string>{"a"});
  EXPECT_EQ(h.queue.queued_bytes(), 0u);
  EXPECT_EQ(h.push("c"), WriteQueue::Pushed::closed);
}

// A piece handed over by a callback that then stops the queue, in a run
// of pieces ended at once: it is not written, and its bytes are given back
// to the bound and to the address.
TEST(WriteQueue, APieceHandedOverAsTheQueueStopsGivesItsBytesBack) {
  ConnectionLimiter limiter(10, 10, AddressRanges(), 1 << 20);
  Harness h(1000, limiter.admit(kAddress).ticket);
  h.end_at_once = true;
  h.queue.start();
  ASSERT_EQ(h.push("a",
                   [&h] {
                     EXPECT_EQ(h.push("bb"), WriteQueue::Pushed::queued);
                     h.queue.stop();
                   }),
            WriteQueue::Pushed::queued);
  h.run();
  EXPECT_EQ(h.writes, std::vector<std::string>{"a"});
  EXPECT_EQ(h.queue.queued_bytes(), 0u);
  EXPECT_EQ(limiter.buffered(kAddress), 0u);
}

}  // namespace
}  // namespace chaton::http
