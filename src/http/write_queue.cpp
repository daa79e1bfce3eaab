// WriteQueue: see write_queue.h.
#include "http/write_queue.h"

#include <boost/asio/post.hpp>

namespace chaton::http {

namespace net = boost::asio;

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
  const size_t counted = piece.catch_up ? 0 : piece.bytes->size();
  if (queued_bytes_.fetch_add(counted) + counted > max_queued_bytes_) {  // fallen behind
    queued_bytes_.fetch_sub(counted);
    accepting_.store(false);
    return Pushed::over;
  }
  auto charge = charge_bytes(ticket_, piece.bytes->size());
  if (!charge) {  // the address holds too much unsent already
    queued_bytes_.fetch_sub(counted);
    accepting_.store(false);
    return Pushed::over;
  }
  piece.charge = std::move(*charge);
  net::post(executor_,
            [this, owner = std::move(owner), p = std::move(piece)]() mutable { enqueue(std::move(p)); });
  return Pushed::queued;
}

void WriteQueue::enqueue(StreamChunk piece) {
  if (stopped_) return uncount(piece);  // dropped, and its charge with it
  queue_.push_back(std::move(piece));
  write_next();
}

void WriteQueue::start() {
  started_ = true;
  write_next();
}

void WriteQueue::write_next() {
  if (!started_ || stopped_ || writing_ || queue_.empty()) return;
  writing_.emplace(std::move(queue_.front()));
  queue_.pop_front();
  writer_(*writing_->bytes, [this](bool ok) { on_written(ok); });
}

void WriteQueue::on_written(bool ok) {
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
  for (auto& piece : queue_) uncount(piece);
  queue_.clear();
  if (writing_) {  // its bytes stay until the write ends; its callback and charge go now
    writing_->written = nullptr;
    writing_->charge.release();
  }
}

void WriteQueue::uncount(StreamChunk& piece) {
  if (!piece.catch_up) queued_bytes_.fetch_sub(piece.bytes->size());
  piece.charge.release();
}

}  // namespace chaton::http
