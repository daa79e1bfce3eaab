// RoomEndpoints: see room_endpoints.h. Every refusal is a 4xx with a
// one-line reason; a storage failure is a 503 and a log line.
#include "http/room_endpoints.h"

#include <cstdio>

#include <boost/json.hpp>

#include "http/long_poll.h"
#include "http/responses.h"
#include "render/html.h"
#include "util/sexpr.h"
#include "util/text.h"

namespace chaton::http {

namespace {

bool is_get(const Request& req) {
  return req.method() == bhttp::verb::get || req.method() == bhttp::verb::head;
}

// An alist / JSON object of string and integer members, in order.
struct Member {
  std::string_view key;
  std::string text;
  int64_t number = 0;
  bool is_number = false;
};

std::string render_alist(const std::vector<Member>& members, bool sexpr) {
  std::string out = sexpr ? "(" : "{";
  bool first = true;
  for (const auto& m : members) {
    if (!first) out += sexpr ? " " : ",";
    first = false;
    if (sexpr) {
      out += "(";
      out += m.key;
      out += " . ";
    } else {
      out += "\"";
      out += m.key;
      out += "\":";
    }
    if (m.is_number) {
      out += std::to_string(m.number);
    } else if (sexpr) {
      append_sexpr_string(out, m.text);
    } else {
      out += boost::json::serialize(boost::json::string_view(m.text));
    }
    if (sexpr) out += ")";
  }
  out += sexpr ? ")" : "}";
  return out;
}

Member text_member(std::string_view k, std::string v) { return Member{k, std::move(v), 0, false}; }
Member number_member(std::string_view k, int64_t v) { return Member{k, {}, v, true}; }

std::optional<PacketFormat> parse_format(std::optional<std::string_view> s) {
  if (!s) return PacketFormat::web;
  if (*s == "1") return PacketFormat::sexpr;
  if (*s == "0") return PacketFormat::json;
  return std::nullopt;
}

}  // namespace

RoomEndpoints::RoomEndpoints(std::shared_ptr<Room> room, const Config& config, const Assets& assets,
                             const Clock& clock)
    : room_(std::move(room)),
      comet_(config.comet),
      cookie_path_(config.site.cookie_path),
      assets_(assets),
      access_log_(std::filesystem::path(room_->settings().config.data_dir) / "logs" / "comet.log", clock),
      post_log_(std::filesystem::path(room_->settings().config.data_dir) / "logs" / "post.log", clock),
      api_log_(std::filesystem::path(room_->settings().config.data_dir) / "logs" / "api.log", clock) {}

void RoomEndpoints::flush_logs() {
  access_log_.flush();
  post_log_.flush();
  api_log_.flush();
}

void RoomEndpoints::handle(const ExchangePtr& ex, std::string_view sub, const Target& target) {
  if (sub.empty()) return page(ex);
  if (sub == "post" || sub == "chaton-poster-" + room_->slug()) return post(ex, target);
  if (sub == "comet") return comet(ex, target);
  if (sub == "apilogin") return apilogin(ex, target);
  if (sub == "var/seq" || sub == "var/status.js" || sub == "var/status.scm" ||
      sub == "var/index.rdf")
    return status(ex, sub.substr(4));
  if (sub == "chaton.css") return asset(ex, "text/css; charset=utf-8", assets_.css, false);
  if (sub == assets_.js_name)
    return asset(ex, "text/javascript; charset=utf-8", assets_.js, true);
  ex->respond(error_response(bhttp::status::not_found, "no such page in room '" + room_->slug() + "'"));
}

void RoomEndpoints::page(const ExchangePtr& ex) {
  if (!is_get(ex->request())) return ex->respond(method_not_allowed("GET, HEAD"));
  Response res = make_response(bhttp::status::ok, "text/html; charset=utf-8",
                               render_room_page(*room_, assets_, cookie_path_));
  res.set("Content-Security-Policy", page_csp());
  res.set(bhttp::field::cache_control, "no-cache");
  res.set("Referrer-Policy", "strict-origin-when-cross-origin");
  ex->respond(std::move(res));
}

void RoomEndpoints::asset(const ExchangePtr& ex, std::string_view content_type,
                          const std::string& body, bool immutable) {
  if (!is_get(ex->request())) return ex->respond(method_not_allowed("GET, HEAD"));
  Response res = make_response(bhttp::status::ok, content_type, body);
  res.set(bhttp::field::cache_control,
          immutable ? "public, max-age=31536000, immutable" : "public, max-age=300");
  ex->respond(std::move(res));
}

void RoomEndpoints::post(const ExchangePtr& ex, const Target& target) {
  if (ex->request().method() != bhttp::verb::post) return ex->respond(method_not_allowed("POST"));
  auto form = parse_form(ex->request(), target.query);
  if (!form) return ex->respond(error_response(form.status()));
  std::string nick(form->get("nick").value_or(""));
  std::string text(form->get("text").value_or(""));
  std::string ip = ex->client_address();
  room_->post(nick, text, ip, [this, ex, ip](Result<Post> r) {
    if (!r) {
      if (r.status().code() == Errc::io)
        std::fprintf(stderr, "chaton: room %s: storing a post failed: %s\n", room_->slug().c_str(),
                     r.status().message().c_str());
      post_log_.write("refused " + ip + ": " + r.status().message());
      return ex->respond(error_response(r.status()));
    }
    const Post& p = r.value();
    post_log_.write("post " + std::to_string(p.seq) + " " + ip + " " + encode_sexpr_string(p.nick));
    std::string link = permalink(room_->settings().url, p.sec, p.usec);
    std::string body = render_alist({number_member("pos", static_cast<int64_t>(p.seq)),
                                     text_member("id", entry_id(p.sec, p.usec)),
                                     text_member("permalink", link)},
                                    false);
    Response res = make_response(bhttp::status::ok, "application/json; charset=utf-8", std::move(body));
    res.set(bhttp::field::cache_control, "no-store");
    ex->respond(std::move(res));
  });
}

void RoomEndpoints::comet(const ExchangePtr& ex, const Target& target) {
  if (!is_get(ex->request())) return ex->respond(method_not_allowed("GET"));
  CometRequest req;
  if (auto c = target.query.get("c"); c && !c->empty()) {
    auto v = parse_int(*c);
    if (!v) return ex->respond(error_response(bhttp::status::bad_request, "c must be a number"));
    req.cid = *v;
  }
  if (auto p = target.query.get("p"); p && !p->empty()) {
    auto v = parse_int(*p);
    if (!v || *v < 0)
      return ex->respond(error_response(bhttp::status::bad_request, "p must be a non-negative number"));
    req.pos = static_cast<uint64_t>(*v);
  }
  auto fmt = parse_format(target.query.get("s"));
  if (!fmt) return ex->respond(error_response(bhttp::status::bad_request, "s must be 0 or 1"));
  req.format = *fmt;
  start_long_poll(room_, ex, req, comet_);
}

void RoomEndpoints::apilogin(const ExchangePtr& ex, const Target& target) {
  if (ex->request().method() != bhttp::verb::post) {
    api_log_.write("405 Method not allowed: " + std::string(ex->request().method_string()) + " (" +
                   ex->client_address() + ")");
    return ex->respond(method_not_allowed("POST"));
  }
  auto form = parse_form(ex->request(), target.query);
  if (!form) return ex->respond(error_response(form.status()));
  auto who = form->get("who");
  if (!who) {
    api_log_.write("401 Unauthorized: 'who' parameter missing (" + ex->client_address() + ")");
    return ex->respond(error_response(bhttp::status::unauthorized, "'who' parameter missing"));
  }
  bool sexpr = form->get("s").value_or("1") == "1";
  const auto& s = room_->settings();
  Cid cid = room_->allocate_cid();
  auto st = room_->status();
  api_log_.write("authenticated " + std::string(*who) + " (" + ex->client_address() + ")");
  std::string body = render_alist({text_member("post-uri", s.url + "post"),
                                   text_member("comet-uri", s.url + "comet"),
                                   text_member("icon-uri", s.config.icon_url),
                                   text_member("room-name", s.config.name),
                                   number_member("cid", cid),
                                   number_member("pos", static_cast<int64_t>(st.sequence))},
                                  sexpr);
  Response res = make_response(
      bhttp::status::ok, sexpr ? "application/x-sexpr; charset=utf-8" : "application/json; charset=utf-8",
      std::move(body));
  res.set(bhttp::field::cache_control, "no-cache");
  ex->respond(std::move(res));
}

void RoomEndpoints::status(const ExchangePtr& ex, std::string_view which) {
  if (!is_get(ex->request())) return ex->respond(method_not_allowed("GET, HEAD"));
  auto st = room_->status();
  Response res;
  if (which == "seq") {
    res = make_response(bhttp::status::ok, "text/plain; charset=utf-8", std::to_string(st.sequence));
  } else if (which == "index.rdf") {
    res = make_response(bhttp::status::ok, "application/rss+xml; charset=utf-8", *room_->rss());
  } else {
    bool sexpr = which == "status.scm";
    std::string body = render_alist({number_member("last-post", st.last_post),
                                     number_member("num-chatters", static_cast<int64_t>(st.num_chatters)),
                                     number_member("post-sequence", static_cast<int64_t>(st.sequence))},
                                    sexpr);
    res = make_response(bhttp::status::ok,
                        sexpr ? "application/x-sexpr; charset=utf-8" : "application/json; charset=utf-8",
                        std::move(body));
  }
  res.set(bhttp::field::cache_control, "no-cache");
  res.set(bhttp::field::access_control_allow_origin, "*");
  ex->respond(std::move(res));
}

}  // namespace chaton::http
