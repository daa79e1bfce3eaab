// The load program's shared vocabulary: namespace aliases, the steady
// clock, printf-style formatting, notes on stderr, whole-file reads, the
// hand-written request strings and the text that carries a post's send time.
// Thread-safety: every function here may be called from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>

namespace chaton::bench {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace json = boost::json;
namespace fs = std::filesystem;
using tcp = net::ip::tcp;
using Steady = std::chrono::steady_clock;
using namespace std::chrono_literals;
using Response = http::response<http::string_body>;

// The steady clock, in ns since its epoch.
int64_t now_ns();
double seconds_since(Steady::time_point t);

// printf into a std::string (up to 511 bytes).
std::string fmt(const char* f, ...) __attribute__((format(printf, 1, 2)));

// "chaton_bench: <s>" on stderr.
void note(const std::string& s);

// The whole file, or nothing if it cannot be opened.
std::optional<std::string> slurp(const fs::path& p);

std::string url_encode(std::string_view s);

// The request writer: requests are plain strings.
std::string make_request(std::string_view method, std::string_view target, std::string_view host,
                         std::string_view form_body = {});

// A post's text: "bench #<id> t=<steady ns at send>".
std::string post_text(uint64_t id, int64_t sent_ns);
bool parse_post_text(std::string_view s, uint64_t& id, int64_t& sent_ns);

// Waits `d` on the calling coroutine's executor.
net::awaitable<void> sleep_for(Steady::duration d);

}  // namespace chaton::bench
