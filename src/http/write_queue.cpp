// WriteQueue: see write_queue.h.
#include "http/write_queue.h"

#include <boost/asio/dispatch.hpp>

namespace chaton::http {

namespace net = boost::asio;

namespace {
// Taken pieces at the front of the queue's vector before they are erased.
constexpr size_t kCompactAfter = 16;
}  // namespace

WriteQueue::WriteQueue(net::any_io_executor executor, size_t max_queued_bytes,
                       std::shared_ptr<ConnectionLimiter::Ticket> ticket, Writer writer,
                       std::function<void()> on_failed)
    : executor_(std::move(executor)),
      max_queued_bytes_(max_queued_bytes),
      ticket_(std::move(ticket)),
      writer_(std::move(writer)),
      on_failed_(std::move(on_failed)) {}

WriteQueue::Pushed WriteQueue::push(StreamChunk piece, std::shared_ptr<void> owner) {
  if (!accepting_.load()) return Pushed::closed;
  const size_t size = piece.bytes.size();
  const size_t counted = piece.catch_up ? 0 : size;
  if (queued_bytes_.fetch_add(counted) + counted > max_queued_bytes_) {  // fallen behind
    queued_bytes_.fetch_sub(counted);
    accepting_.store(false);
    return Pushed::over;
  }
  auto charge = charge_bytes(ticket_, size);
  if (!charge) {  // the address holds too much unsent already
    queued_bytes_.fetch_sub(counted);
    accepting_.store(false);
    return Pushed::over;
  }
  piece.charge = std::move(*charge);
  // On the strand already (a feed delivering on its connection's loop, as
  // every feed does), it is queued, or written, at once; from elsewhere it
  // goes through the executor.
  net::dispatch(executor_,
                [this, owner = std::move(owner), p = std::move(piece)]() mutable { enqueue(std::move(p)); });
  return Pushed::queued;
}

void WriteQueue::enqueue(StreamChunk piece) {
  if (stopped_) return uncount(piece);  // dropped, and its charge with it
  if (started_ && !writing_ && head_ == queue_.size()) return write(std::move(piece));  // nothing before it
  queue_.push_back(std::move(piece));
  write_next();
}

void WriteQueue::start() {
  started_ = true;
  write_next();
}

void WriteQueue::write_next() {
  if (!started_ || stopped_ || writing_ || head_ == queue_.size()) return;
  StreamChunk next = std::move(queue_[head_++]);
  if (head_ == queue_.size()) {  // emptied: it holds nothing while the reader waits
    std::vector<StreamChunk>().swap(queue_);
    head_ = 0;
  } else if (head_ >= kCompactAfter && 2 * head_ >= queue_.size()) {  // a queue that never empties
    queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(head_));
    head_ = 0;
  }
  write(std::move(next));
}

// A writer may finish a piece before it returns (the socket took it at
// once), and what its end runs (the piece's callback, the next piece) may
// hand over and finish the next piece the same way: instead of one nested
// call per piece, the loop here takes each next piece in turn, however
// many go out at once.
void WriteQueue::write(StreamChunk piece) {
  writing_.emplace(std::move(piece));
  if (looping_) return;  // a loop below, further up the stack, writes it
  looping_ = true;
  // At the top of each turn writing_ holds a piece not yet handed to the
  // writer (or nothing).
  while (writing_) {
    if (stopped_) {  // stopped by what the last piece's end ran: this one is dropped
      StreamChunk dropped = std::move(*writing_);
      writing_.reset();
      uncount(dropped);
      break;
    }
    ended_now_.reset();
    in_writer_ = true;
    writer_(writing_->bytes, [this](bool ok) { on_written(ok); });
    in_writer_ = false;
    if (!ended_now_) break;  // under way: on_written() comes later
    end_write(*ended_now_);  // may hand the next piece over (writing_)
  }
  looping_ = false;
}

void WriteQueue::on_written(bool ok) {
  if (in_writer_) {  // the writer finished it before returning: the loop in write() goes on
    ended_now_ = ok;
    return;
  }
  end_write(ok);
}

void WriteQueue::end_write(bool ok) {
  StreamChunk done = std::move(*writing_);
  writing_.reset();
  uncount(done);
  if (stopped_) return;  // its callback was let go of already
  if (!ok) {
    stop();
    if (on_failed_) on_failed_();
    return;
  }
  if (done.written) done.written();
  write_next();
}

void WriteQueue::stop() {
  accepting_.store(false);
  if (stopped_) return;
  stopped_ = true;
  for (size_t i = head_; i < queue_.size(); ++i) uncount(queue_[i]);
  std::vector<StreamChunk>().swap(queue_);
  head_ = 0;
  if (writing_) {  // its bytes stay until the write ends; its callback and charge go now
    writing_->written = nullptr;
    writing_->charge.release();
  }
}

void WriteQueue::uncount(StreamChunk& piece) {
  if (!piece.catch_up) queued_bytes_.fetch_sub(piece.bytes.size());
  piece.charge.release();
}

}  // namespace chaton::http
