// Router: see router.h.
#include "endpoints/router.h"

#include <algorithm>

#include "http/caching.h"
#include "http/responses.h"

namespace chaton::endpoints {

using http::error_response;
using http::ExchangePtr;
using http::html_response;
using http::make_response;
using http::OriginPolicy;
using http::parse_target;
using http::redirect_response;
using http::Request;
using http::UpgradeDecision;
using pages::render_room_index;
using pages::robots_txt;
using pages::RoomSummary;
namespace bhttp = boost::beast::http;

Router::Router(std::vector<std::unique_ptr<RoomEndpoints>> rooms, const Clock& clock, OriginPolicy origins,
               std::unique_ptr<Monitoring> monitoring)
    : rooms_(std::move(rooms)),
      clock_(clock),
      origins_(std::move(origins)),
      monitoring_(std::move(monitoring)) {
  std::stable_sort(rooms_.begin(), rooms_.end(), [](const auto& a, const auto& b) {
    return a->room().settings().config.url_path.size() > b->room().settings().config.url_path.size();
  });
  std::vector<std::string> paths;
  for (const auto& r : rooms_) paths.push_back(r->room().settings().config.url_path);
  robots_ = robots_txt(paths);

  table_.add({"/", Match::exact, kGetHead, [this](const Call& call) { index(call); }});
  table_.add({"/robots.txt", Match::exact, kGetHead, [this](const Call& call) {
                call.ex->respond(make_response(bhttp::status::ok, "text/plain; charset=utf-8", robots_));
              }});
  // Before the rooms: no url_path may take these (config.cpp refuses them).
  if (monitoring_) monitoring_->add_to(table_);
  for (const auto& r : rooms_) {
    RoomEndpoints* room = r.get();
    const std::string& base = room->room().settings().config.url_path;  // ends with '/'
    // The room without its final slash: to its absolute URL, like every URL handed out.
    table_.add({base.substr(0, base.size() - 1), Match::exact, kAnyMethod, [room](const Call& call) {
                  call.ex->respond(
                      redirect_response(bhttp::status::moved_permanently, room->room().settings().url));
                }});
    // Every method: the room's own table checks them.
    table_.add({base, Match::prefix, kAnyMethod, [room](Call& call) {
                  call.ex->set_access_log(room->access_log());
                  room->handle(call.ex, call.rest, std::move(call.target));
                }});
  }
}

void Router::handle(const ExchangePtr& ex) {
  if (Status st = origins_.check(ex->request()); !st) return ex->respond(error_response(st));
  auto target = parse_target(ex->request().target());
  if (!target) return ex->respond(error_response(target.status()));
  std::string path = target->path;
  if (!table_.dispatch(Call{ex, std::move(*target), std::move(path), {}, {}}))
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

void Router::index(const Call& call) {
  std::vector<RoomSummary> list;
  for (const auto& r : rooms_) {
    const auto& s = r->room().settings();
    RoomSummary summary{s.config.name, s.url, {}, {}, std::nullopt};
    // A private room's posts, chatters and times are for its users only.
    summary.is_private = !s.config.htpasswd.empty();
    if (!summary.is_private) {
      summary.description = s.config.description;
      RoomStatus st = r->room().status();
      summary.status.num_chatters = st.num_chatters;
      summary.status.last_post = st.last_post;
      if (auto last = r->room().recent_posts(1); !last.empty()) summary.last = std::move(last.back());
    }
    list.push_back(std::move(summary));
  }
  std::sort(list.begin(), list.end(), [](const auto& a, const auto& b) { return a.url < b.url; });
  call.ex->respond(http::compressed(
      call.ex->request(),
      html_response(bhttp::status::ok, render_room_index(list, to_stamp(clock_.now()).sec))));
}

}  // namespace chaton::endpoints
