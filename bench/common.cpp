#include "common.h"

#include <cctype>
#include <charconv>
#include <cstdarg>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace chaton::bench {

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Steady::now().time_since_epoch()).count();
}

double seconds_since(Steady::time_point t) {
  return std::chrono::duration<double>(Steady::now() - t).count();
}

std::string fmt(const char* f, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, f);
  std::vsnprintf(buf, sizeof buf, f, ap);
  va_end(ap);
  return buf;
}

void note(const std::string& s) {
  std::fprintf(stderr, "chaton_bench: %s\n", s.c_str());
  std::fflush(stderr);
}

std::optional<std::string> slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string url_encode(std::string_view s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string make_request(std::string_view method, std::string_view target, std::string_view host,
                         std::string_view form_body) {
  std::string r;
  r.reserve(160 + form_body.size());
  r += method;
  r += ' ';
  r += target;
  r += " HTTP/1.1\r\nHost: ";
  r += host;
  r += "\r\n";
  if (method == "POST") {
    r += "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: ";
    r += std::to_string(form_body.size());
    r += "\r\n";
  }
  r += "\r\n";
  r += form_body;
  return r;
}

std::string post_text(uint64_t id, int64_t sent_ns) {
  return "bench #" + std::to_string(id) + " t=" + std::to_string(sent_ns);
}

bool parse_post_text(std::string_view s, uint64_t& id, int64_t& sent_ns) {
  auto h = s.find('#');
  auto t = s.find(" t=");
  if (h == std::string_view::npos || t == std::string_view::npos || t < h) return false;
  auto r1 = std::from_chars(s.data() + h + 1, s.data() + t, id);
  auto r2 = std::from_chars(s.data() + t + 3, s.data() + s.size(), sent_ns);
  return r1.ec == std::errc() && r2.ec == std::errc();
}

net::awaitable<void> sleep_for(Steady::duration d) {
  net::steady_timer t(co_await net::this_coro::executor, d);
  co_await t.async_wait(net::use_awaitable);
}

}  // namespace chaton::bench
