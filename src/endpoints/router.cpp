// Router: see router.h.
#include "endpoints/router.h"

#include <algorithm>

#include "http/responses.h"

namespace chaton::http {

Router::Router(std::vector<std::unique_ptr<RoomEndpoints>> rooms, const Clock& clock, OriginPolicy origins)
    : rooms_(std::move(rooms)), clock_(clock), origins_(std::move(origins)) {
  std::stable_sort(rooms_.begin(), rooms_.end(), [](const auto& a, const auto& b) {
    return a->room().settings().config.url_path.size() > b->room().settings().config.url_path.size();
  });
  std::vector<std::string> paths;
  for (const auto& r : rooms_) paths.push_back(r->room().settings().config.url_path);
  robots_ = robots_txt(paths);
}

void Router::handle(const ExchangePtr& ex) {
  if (Status st = origins_.check(ex->request()); !st) return ex->respond(error_response(st));
  auto target = parse_target(ex->request().target());
  if (!target) return ex->respond(error_response(target.status()));
  const std::string& path = target->path;
  bool get = ex->request().method() == bhttp::verb::get || ex->request().method() == bhttp::verb::head;

  if (path == "/") return index(ex);
  if (path == "/robots.txt") {
    if (!get) return ex->respond(method_not_allowed("GET, HEAD"));
    return ex->respond(make_response(bhttp::status::ok, "text/plain; charset=utf-8", robots_));
  }
  for (const auto& r : rooms_) {
    const std::string& base = r->room().settings().config.url_path;
    if (path.size() + 1 == base.size() && base.compare(0, path.size(), path) == 0)
      return ex->respond(redirect_response(bhttp::status::moved_permanently,
                                           r->room().settings().url));  // absolute, like every URL handed out
    if (path.compare(0, base.size(), base) == 0) {
      ex->set_access_log(&r->access_log());
      return r->handle(ex, std::string_view(path).substr(base.size()), *target);
    }
  }
  ex->respond(error_response(bhttp::status::not_found, "no such room or page"));
}

RoomEndpoints* Router::room_for(std::string_view path) const {
  for (const auto& r : rooms_) {
    const std::string& base = r->room().settings().config.url_path;
    if (path.compare(0, base.size(), base) == 0) return r.get();
  }
  return nullptr;
}

UpgradeDecision Router::upgrade(const Request& req, const std::string& client_address) {
  UpgradeDecision d;
  if (Status st = origins_.check(req); !st) {
    d.refusal = error_response(st);
    return d;
  }
  auto target = parse_target(req.target());
  if (!target) {
    d.refusal = error_response(target.status());
    return d;
  }
  RoomEndpoints* room = room_for(target->path);
  const std::string sub =
      room ? target->path.substr(room->room().settings().config.url_path.size()) : std::string();
  if (!room || sub != "ws") {
    d.refusal = error_response(bhttp::status::not_found, "no WebSocket endpoint here; use <room>/ws");
    return d;
  }
  return room->websocket(req, *target, client_address);
}

void Router::index(const ExchangePtr& ex) {
  if (ex->request().method() != bhttp::verb::get && ex->request().method() != bhttp::verb::head)
    return ex->respond(method_not_allowed("GET, HEAD"));
  std::vector<RoomSummary> list;
  for (const auto& r : rooms_) {
    const auto& s = r->room().settings();
    RoomSummary summary{s.config.name, s.url, {}, {}, std::nullopt};
    // A private room's posts, chatters and times are for its users only.
    summary.is_private = !s.config.htpasswd.empty();
    if (!summary.is_private) {
      summary.description = s.config.description;
      summary.status = r->room().status();
      if (auto last = r->room().recent_posts(1); !last.empty()) summary.last = std::move(last.back());
    }
    list.push_back(std::move(summary));
  }
  std::sort(list.begin(), list.end(), [](const auto& a, const auto& b) { return a.url < b.url; });
  ex->respond(html_response(bhttp::status::ok, render_room_index(list, to_stamp(clock_.now()).sec)));
}

}  // namespace chaton::http
