// wake_loop_of(): see wake_loop.h.
#include "live/wake_loop.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

namespace chaton::live {

namespace net = boost::asio;

namespace {

class AsioWakeLoop final : public net::execution_context::service, public WakeLoop {
 public:
  static inline net::execution_context::id id;

  explicit AsioWakeLoop(net::io_context& context) : service(context), context_(context) {}

  void post(std::function<void()> task) override { net::post(context_, std::move(task)); }

 private:
  void shutdown() override {}

  net::io_context& context_;
};

}  // namespace

WakeLoop* wake_loop_of(const net::any_io_executor& executor) {
  const auto* plain = executor.target<net::io_context::executor_type>();
  if (!plain) return nullptr;
  return &net::use_service<AsioWakeLoop>(plain->context());
}

}  // namespace chaton::live
