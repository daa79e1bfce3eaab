// RoomEndpoints: see room_endpoints.h. Every refusal is a 4xx with a
// one-line reason; a storage failure is a 503 and a log line.
#include "http/room_endpoints.h"

#include <algorithm>
#include <cctype>
#include <cstdio>

#include <boost/asio/post.hpp>
#include <boost/json.hpp>

#include "access/forwarded.h"
#include "http/archive_pages.h"
#include "http/badge.h"
#include "http/event_stream.h"
#include "http/long_poll.h"
#include "http/post_result.h"
#include "http/ws_room.h"
#include "http/responses.h"
#include "render/html.h"
#include "search/search.h"
#include "util/civil_time.h"
#include "util/log.h"
#include "util/sexpr.h"
#include "util/text.h"

namespace chaton::http {

namespace net = boost::asio;

namespace {

// Full credential checks (a bcrypt each) one address may start: a burst,
// then this many a second. Known credentials are not counted.
constexpr double kLoginChecksPerSecond = 1;
constexpr double kLoginCheckBurst = 20;

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

// `p` (or Last-Event-ID): absent or empty means 0.
Result<uint64_t> parse_position(std::optional<std::string_view> p) {
  if (!p || p->empty()) return uint64_t{0};
  auto v = parse_int(*p);
  if (!v || *v < 0) return Status(Errc::invalid, "p must be a non-negative number");
  return static_cast<uint64_t>(*v);
}

// `page` (search results, archive days): absent or empty means 1; larger
// than `max` means `max`.
Result<size_t> parse_page(const Target& target, size_t max) {
  auto p = target.query.get("page");
  if (!p || p->empty()) return size_t{1};
  auto v = parse_int(*p);
  if (!v || *v < 1) return Status(Errc::invalid, "page must be a positive number");
  return static_cast<size_t>(std::min<int64_t>(*v, static_cast<int64_t>(max)));
}

std::optional<PacketFormat> parse_format(std::optional<std::string_view> s) {
  if (!s) return PacketFormat::web;
  if (*s == "1") return PacketFormat::sexpr;
  if (*s == "0") return PacketFormat::json;
  return std::nullopt;
}

}  // namespace

std::string original_poster_name(std::string_view room_name) {
  std::string out = "chaton-poster-";
  for (char c : room_name) {
    auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) != 0 && u < 0x80)
      out.push_back(static_cast<char>(std::tolower(u)));
    else if (c == '_' || c == '-')
      out.push_back(c);
  }
  return out;
}

RoomEndpoints::RoomEndpoints(std::shared_ptr<Room> room, const Config& config, const Assets& assets,
                             const Clock& clock)
    : room_(std::move(room)),
      comet_(config.comet),
      cookie_path_(config.site.cookie_path),
      assets_(assets),
      clock_(clock),
      access_log_(std::filesystem::path(room_->settings().config.data_dir) / "logs" / "comet.log", clock),
      post_log_(std::filesystem::path(room_->settings().config.data_dir) / "logs" / "post.log", clock),
      api_log_(std::filesystem::path(room_->settings().config.data_dir) / "logs" / "api.log", clock) {
  embeddable_ = frame_ancestors_of(config.site.frame_ancestors);
  poster_alias_ = original_poster_name(room_->settings().config.name);
  if (const std::string& file = room_->settings().config.htpasswd; !file.empty()) {
    users_ = std::make_unique<Htpasswd>(file, clock);
    login_checks_ = std::make_unique<RateLimiter>(kLoginChecksPerSecond, kLoginCheckBurst, AddressRanges{}, clock);
    login_pool_ = std::make_unique<net::thread_pool>(1);
  }
}

RoomEndpoints::~RoomEndpoints() {
  if (login_pool_) login_pool_->join();
}

// ---- private rooms

std::optional<Response> RoomEndpoints::check_credentials(const Request& req, const std::string& address,
                                                         std::optional<Credentials>& creds, bool& slow) {
  const std::string& realm = room_->settings().config.name;
  creds = parse_basic_auth(req[bhttp::field::authorization]);
  if (!creds) return unauthorized(realm, "this room is private: log in with your user name and password");
  if (users_->known(creds->user, creds->password)) return std::nullopt;
  if (int wait = login_checks_->acquire(address); wait > 0) {
    return error_response(Status(Errc::rate_limited, "too many login attempts from your address; try again in " +
                                                         std::to_string(wait) + " s")
                              .with_retry_after(wait));
  }
  slow = true;
  return std::nullopt;
}

void RoomEndpoints::handle(const ExchangePtr& ex, std::string_view sub, const Target& target) {
  if (!users_) return dispatch(ex, sub, target, {});
  std::optional<Credentials> creds;
  bool slow = false;
  if (auto refusal = check_credentials(ex->request(), ex->client_address(), creds, slow))
    return ex->respond(std::move(*refusal));
  if (!slow) return dispatch(ex, sub, target, creds->user);
  net::post(*login_pool_, [this, ex, sub = std::string(sub), target, creds = std::move(*creds)] {
    bool ok = users_->verify(creds.user, creds.password) == Htpasswd::Verdict::allowed;
    net::post(ex->executor(), [this, ex, sub, target, user = creds.user, ok] {
      if (!ok) {
        api_log_.write("401 wrong user name or password for '" + user + "' (" + ex->client_address() + ")");
        return ex->respond(unauthorized(room_->settings().config.name, "wrong user name or password"));
      }
      dispatch(ex, sub, target, user);
    });
  });
}

void RoomEndpoints::passwd(const ExchangePtr& ex, const Target& target, std::string_view user) {
  if (!users_) return ex->respond(error_response(bhttp::status::not_found, "this room is public: it has no passwords"));
  const auto& settings = room_->settings();
  if (is_get(ex->request()))
    return ex->respond(html_response(bhttp::status::ok, render_passwd_page(settings, user, {}, false)));
  if (ex->request().method() != bhttp::verb::post) return ex->respond(method_not_allowed("GET, HEAD, POST"));
  auto form = parse_form(ex->request(), Params{});
  if (!form) return ex->respond(error_response(form.status()));
  std::string old_pw(form->get("old").value_or(""));
  std::string new_pw(form->get("new").value_or(""));
  std::string again(form->get("again").value_or(new_pw));
  auto answer = [ex, &settings, user = std::string(user)](bhttp::status code, std::string_view message, bool changed) {
    ex->respond(html_response(code, render_passwd_page(settings, user, message, changed)));
  };
  if (new_pw != again) return answer(bhttp::status::bad_request, "the two new passwords differ", false);
  // bcrypt twice (check and new hash): on the login thread.
  net::post(*login_pool_, [this, ex, answer, user = std::string(user), old_pw, new_pw] {
    Status st = users_->change_password(user, old_pw, new_pw);
    net::post(ex->executor(), [this, ex, answer, user, st] {
      if (st) {
        api_log_.write("password changed for '" + user + "' (" + ex->client_address() + ")");
        return answer(bhttp::status::ok, "Your password was changed.", true);
      }
      if (st.code() == Errc::io)
        log_error("room " + room_->slug() + ": changing a password failed: " + st.message());
      answer(status_for(st.code()), st.code() == Errc::io ? "the password file could not be written; try again later"
                                                           : st.message(),
             false);
    });
  });
}

void RoomEndpoints::flush_logs() {
  access_log_.flush();
  post_log_.flush();
  api_log_.flush();
}

void RoomEndpoints::dispatch(const ExchangePtr& ex, std::string_view sub, const Target& target,
                             std::string_view user) {
  if (sub.empty()) return page(ex);
  if (sub == "passwd") return passwd(ex, target, user);
  if (sub == "post" || sub == "chaton-poster-" + room_->slug() || sub == poster_alias_) return post(ex, target);
  if (sub == "comet") return comet(ex, target);
  if (sub == "events") return events(ex, target);
  if (sub == "apilogin") return apilogin(ex, target);
  if (sub == "var/seq" || sub == "var/status.js" || sub == "var/status.scm" ||
      sub == "var/index.rdf")
    return status(ex, sub.substr(4));
  if (sub == "a") return ex->respond(redirect_response(bhttp::status::moved_permanently,
                                                         room_->settings().url + "a/"));
  if (sub.starts_with("a/")) return archive(ex, sub.substr(2), target);
  if (sub == "b" || sub == "badge.html" || sub == "badge.svg") return badge(ex, sub);
  if (sub == "search") return search(ex, target);
  if (sub == "chaton.css") return asset(ex, "text/css; charset=utf-8", assets_.css, false);
  if (sub == assets_.js_name)
    return asset(ex, "text/javascript; charset=utf-8", assets_.js, true);
  ex->respond(error_response(bhttp::status::not_found, "no such page in room '" + room_->slug() + "'"));
}

void RoomEndpoints::page(const ExchangePtr& ex) {
  if (!is_get(ex->request())) return ex->respond(method_not_allowed("GET, HEAD"));
  ex->respond(html_response(bhttp::status::ok, render_room_page(*room_, assets_, cookie_path_),
                            embeddable_));
}

void RoomEndpoints::asset(const ExchangePtr& ex, std::string_view content_type,
                          const std::string& body, bool immutable) {
  if (!is_get(ex->request())) return ex->respond(method_not_allowed("GET, HEAD"));
  Response res = make_response(bhttp::status::ok, content_type, body);
  res.set(bhttp::field::cache_control,
          immutable ? "public, max-age=31536000, immutable" : "public, max-age=300");
  ex->respond(std::move(res));
}

void RoomEndpoints::archive(const ExchangePtr& ex, std::string_view path, const Target& target) {
  if (!is_get(ex->request())) return ex->respond(method_not_allowed("GET, HEAD"));
  auto page = parse_page(target, kMaxArchivePage);
  if (!page) return ex->respond(error_response(page.status()));
  PageReply reply = archive_reply(*room_, path, utc_from_seconds(to_stamp(clock_.now()).sec).date, *page,
                                  room_->settings().url + assets_.js_name);
  if (reply.status == 302) {
    Response res = redirect_response(bhttp::status::found, reply.location);
    res.set(bhttp::field::cache_control, "no-cache");
    return ex->respond(std::move(res));
  }
  ex->respond(html_response(reply.status == 200 ? bhttp::status::ok : bhttp::status::not_found,
                        std::move(reply.body)));
}

void RoomEndpoints::badge(const ExchangePtr& ex, std::string_view which) {
  if (!is_get(ex->request())) return ex->respond(method_not_allowed("GET, HEAD"));
  const auto& s = room_->settings();
  auto st = room_->status();
  BadgeInfo info{s.config.name, s.url, s.config.icon_url, st.num_chatters, st.last_post,
                 to_stamp(clock_.now()).sec};
  if (which == "badge.html")
    return ex->respond(html_response(bhttp::status::ok, render_badge_page(s, assets_, info), embeddable_));
  Response res = which == "b"
                     ? make_response(bhttp::status::ok, "text/javascript; charset=utf-8", badge_script(info))
                     : make_response(bhttp::status::ok, "image/svg+xml; charset=utf-8", badge_svg(info));
  // Embedded on other sites, and it says "N minutes ago": asked again on
  // every view, as the original's badge was (docs/PROTOCOL.md, "Badge").
  res.set(bhttp::field::cache_control, "no-cache");
  res.set(bhttp::field::access_control_allow_origin, "*");
  if (which == "badge.svg") res.set("Content-Security-Policy", "default-src 'none'");
  ex->respond(std::move(res));
}

void RoomEndpoints::search(const ExchangePtr& ex, const Target& target) {
  if (!is_get(ex->request())) return ex->respond(method_not_allowed("GET, HEAD"));
  std::string raw(target.query.get("q").value_or(""));
  auto parsed_page = parse_page(target, search::kMaxPage);
  if (!parsed_page) return ex->respond(error_response(parsed_page.status()));
  size_t page = *parsed_page;
  search::Query query = search::parse_query(raw);
  if (query.empty())
    return ex->respond(html_response(bhttp::status::ok,
                                 render_search_page(room_->settings(), raw, query, search::Results{})));
  auto submitted = searches_->submit(
      client_group(ex->client_address()),  // an IPv6 client counts by its /64
      [room = room_, ex, raw = std::move(raw), query = std::move(query), page](const search::StopFlag& cancelled) {
        search::RoomDays days(*room);
        search::Budget budget{&cancelled, search::deadline_after(search::kSearchTimeBudget)};
        search::Results results = search::find(days, query, page, search::kPageSize, budget);
        if (results.cancelled) return ex->abandon();
        ex->respond(html_response(bhttp::status::ok, render_search_page(room->settings(), raw, query, results)));
      });
  if (submitted.verdict != search::SearchQueue::Verdict::ok) {
    Response res = error_response(
        bhttp::status::too_many_requests,
        submitted.verdict == search::SearchQueue::Verdict::full
            ? "too many searches are waiting in this room; try again soon"
            : "you have too many searches in progress; wait for them to finish");
    res.set(bhttp::field::retry_after, "5");
    return ex->respond(std::move(res));
  }
  // A client that closes its connection cancels its search.
  ex->watch_disconnect([queue = std::weak_ptr<search::SearchQueue>(searches_), id = submitted.id] {
    if (auto q = queue.lock()) q->cancel(id);
  });
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
        log_error("room " + room_->slug() + ": storing a post failed: " + r.status().message());
      post_log_.write("refused " + ip + ": " + r.status().message());
      return ex->respond(error_response(r.status()));
    }
    const Post& p = r.value();
    post_log_.write("post " + std::to_string(p.seq) + " " + ip + " " + encode_sexpr_string(p.nick));
    std::string body = posted_json(p, room_->settings().url);
    Response res = make_response(bhttp::status::ok, "application/json; charset=utf-8", std::move(body));
    res.set(bhttp::field::cache_control, "no-store");
    ex->respond(std::move(res));
  });
}

void RoomEndpoints::comet(const ExchangePtr& ex, const Target& target) {
  if (!is_get(ex->request())) return ex->respond(method_not_allowed("GET"));
  // Neither `p` nor `s`: what the original answered with its viewer page
  // (the room page's inner frame). The room page is the viewer now
  // (docs/PROTOCOL.md, "The comet long-poll").
  if (!target.query.has("p") && !target.query.has("s")) {
    Response res = redirect_response(bhttp::status::found, room_->settings().url);
    res.set(bhttp::field::cache_control, "no-cache");
    return ex->respond(std::move(res));
  }
  CometRequest req;
  if (auto c = target.query.get("c"); c && !c->empty()) {
    auto v = parse_int(*c);
    if (!v) return ex->respond(error_response(bhttp::status::bad_request, "c must be a number"));
    req.cid = *v;
  }
  auto pos = parse_position(target.query.get("p"));
  if (!pos) return ex->respond(error_response(pos.status()));
  req.pos = *pos;
  auto fmt = parse_format(target.query.get("s"));
  if (!fmt) return ex->respond(error_response(bhttp::status::bad_request, "s must be 0 or 1"));
  req.format = *fmt;
  start_long_poll(room_, ex, req, comet_);
}

void RoomEndpoints::events(const ExchangePtr& ex, const Target& target) {
  if (!is_get(ex->request())) return ex->respond(method_not_allowed("GET"));
  // A reconnecting EventSource says where it stopped; that wins over `p`.
  std::string_view last = ex->request()["Last-Event-ID"];
  auto pos = parse_position(last.empty() ? target.query.get("p") : std::optional(last));
  if (!pos) return ex->respond(error_response(pos.status()));
  // The comet JSON packets by default; `s=web` gives the web format (HTML
  // content), which the room page uses.
  auto s = target.query.get("s");
  PacketFormat format = PacketFormat::json;
  if (s && *s == "web")
    format = PacketFormat::web;
  else if (s && *s != "0")
    return ex->respond(error_response(bhttp::status::bad_request, "s must be 0 or web"));
  start_event_stream(room_, ex, *pos, format, comet_);
}

UpgradeDecision RoomEndpoints::websocket(const Request& req, const Target& target, const std::string& address) {
  UpgradeDecision d;
  if (users_) {
    std::optional<Credentials> creds;
    bool slow = false;
    if (auto refusal = check_credentials(req, address, creds, slow)) {
      d.refusal = std::move(*refusal);
      return d;
    }
    if (slow && users_->verify(creds->user, creds->password) != Htpasswd::Verdict::allowed) {
      d.refusal = unauthorized(room_->settings().config.name, "wrong user name or password");
      return d;
    }
  }
  auto pos = parse_position(target.query.get("p"));
  if (!pos) {
    d.refusal = error_response(pos.status());
    return d;
  }
  d.peer = make_ws_room_peer(room_, *pos, address, comet_);
  return d;
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
  Cid cid = room_->allocate_cid(ex->client_address());
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
    // status.scm is text/plain, as the original served it: its readers
    // take it as text (docs/PROTOCOL.md, "Status").
    res = make_response(bhttp::status::ok,
                        sexpr ? "text/plain; charset=utf-8" : "application/json; charset=utf-8",
                        std::move(body));
  }
  res.set(bhttp::field::cache_control, "no-cache");
  res.set(bhttp::field::access_control_allow_origin, "*");
  ex->respond(std::move(res));
}

}  // namespace chaton::http
