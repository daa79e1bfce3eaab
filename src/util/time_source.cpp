// TimeSource: see time_source.h.
#include "util/time_source.h"

#include <atomic>
#include <mutex>
#include <random>

#include <boost/asio/execution_context.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "util/deadline_list.h"
#include "util/log.h"

namespace chaton {

namespace {

namespace net = boost::asio;

// The adapter that lets a standard distribution draw from a TimeSource.
struct RandomBits {
  using result_type = uint64_t;
  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return ~result_type{0}; }
  result_type operator()() { return time.random_bits(); }
  TimeSource& time;
};

// An Asio steady_timer. Each arm() or cancel() starts a new generation; a
// handler runs only if its generation is still the current one, so one
// whose time had come before it was cancelled (already queued on the
// executor) does nothing. The generation is shared with queued handlers,
// which may run after the Timer is gone.
class AsioTimer final : public Timer {
 public:
  explicit AsioTimer(const net::any_io_executor& executor) : timer_(executor) {}
  ~AsioTimer() override {
    try {
      cancel();
    } catch (const std::exception& e) {  // Asio's cancel() throws only if the OS refuses
      log_error(std::string("a timer could not be cancelled: ") + e.what());
    }
  }

  void arm(MonoDuration delay, Callback handler) override {
    uint64_t mine = ++*generation_;
    timer_.expires_after(delay);
    timer_.async_wait([generation = generation_, mine, h = std::move(handler)](boost::system::error_code ec) {
      if (!ec && generation->load() == mine && h) h();
    });
  }

  void cancel() override {
    ++*generation_;
    timer_.cancel();
  }

 private:
  net::steady_timer timer_;
  std::shared_ptr<std::atomic<uint64_t>> generation_ = std::make_shared<std::atomic<uint64_t>>(0);
};

// The timers of one io_context: one DeadlineList, driven by one AsioTimer
// on the context's executor (util/deadline_list.h). It is a service of the
// context, made at its first timer, so it lives as long as the context.
// The driver is made in the constructor: the timer service it uses is then
// registered before this one, and so is destroyed after it.
class LoopTimers final : public net::execution_context::service {
 public:
  static inline net::execution_context::id id;

  explicit LoopTimers(net::execution_context& context)
      : net::execution_context::service(context),
        driver_(std::make_unique<AsioTimer>(static_cast<net::io_context&>(context).get_executor())) {}

  std::unique_ptr<Timer> make_timer(TimeSource& time) {
    std::call_once(made_, [&] { list_ = std::make_unique<DeadlineList>(time, std::move(driver_)); });
    return list_->make_timer();
  }

 private:
  // The context is shutting down: its pending operations are destroyed
  // without running, and so are the handlers on the list.
  void shutdown() override {
    if (list_) list_->shutdown();
  }
  std::unique_ptr<Timer> driver_;  // until the list takes it
  std::once_flag made_;
  std::unique_ptr<DeadlineList> list_;
};

}  // namespace

MonoDuration random_between(TimeSource& time, MonoDuration lo, MonoDuration hi) {
  if (hi <= lo) return lo;
  std::uniform_int_distribution<MonoDuration::rep> dist(lo.count(), hi.count());
  RandomBits bits{time};
  return MonoDuration(dist(bits));
}

RealTimeSource::RealTimeSource(const Clock& wall) : wall_(wall) {}

RealTimeSource& RealTimeSource::instance() {
  static RealTimeSource source;
  return source;
}

std::unique_ptr<Timer> RealTimeSource::make_timer(net::any_io_executor executor) {
  // An event loop's own executor: the loop's one list of deadlines. Any
  // other (a strand, another kind of context): a timer of its own.
  if (const auto* loop = executor.target<net::io_context::executor_type>())
    // The list reads the monotonic clock, the same for every RealTimeSource,
    // from the one that lives as long as the program: a context may outlive
    // the source that made its first timer.
    return net::use_service<LoopTimers>(loop->context()).make_timer(RealTimeSource::instance());
  return std::make_unique<AsioTimer>(std::move(executor));
}

uint64_t RealTimeSource::random_bits() {
  // One engine per thread: every long-poll draws its timeouts here, on the
  // I/O threads, and a shared engine would need a lock on that path.
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return rng();
}

}  // namespace chaton
