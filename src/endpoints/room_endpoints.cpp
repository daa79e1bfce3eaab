// RoomEndpoints: see room_endpoints.h. Every refusal is a 4xx with a
// one-line reason; a storage failure is a 503 and a log line.
#include "endpoints/room_endpoints.h"

#include <algorithm>
#include <cctype>
#include <cstdio>

#include <unistd.h>

#include <boost/asio/post.hpp>
#include <boost/json.hpp>

#include "access/forwarded.h"
#include "endpoints/page_data.h"
#include "http/caching.h"
#include "http/responses.h"
#include "live/event_stream.h"
#include "live/long_poll.h"
#include "live/post_result.h"
#include "live/ws_room.h"
#include "pages/archive_pages.h"
#include "pages/badge.h"
#include "render/html.h"
#include "search/search.h"
#include "util/civil_time.h"
#include "util/log.h"
#include "util/sexpr.h"
#include "util/text.h"

namespace chaton::endpoints {

using http::cacheable;
using http::CachePolicy;
using http::compressed;
using http::error_response;
using http::ExchangePtr;
using http::frame_ancestors_of;
using http::html_response;
using http::make_response;
using http::parse_form;
using http::redirect_response;
using http::Request;
using http::Response;
using http::Target;
using http::UpgradeDecision;
using live::CometRequest;
using live::make_ws_room_peer;
using live::posted_json;
using live::start_event_stream;
using live::start_long_poll;
using pages::Assets;
using pages::badge_script;
using pages::badge_svg;
using pages::BadgeInfo;
using pages::kMaxArchivePage;
using pages::render_badge_page;
using pages::render_room_page;
using pages::render_search_page;
namespace bhttp = boost::beast::http;

namespace net = boost::asio;

namespace {

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

// The room's access log where `site.access_log` sends it (docs/CONFIG.md):
// logs/comet.log, standard error (each line names the room), or none.
std::unique_ptr<LogFile> make_access_log(const std::string& to, const RoomConfig& room, const Clock& clock) {
  if (to == "off") return nullptr;
  if (to == "stderr") return std::make_unique<LogFile>(STDERR_FILENO, "access " + room.slug + ": ", clock);
  return std::make_unique<LogFile>(std::filesystem::path(room.data_dir) / "logs" / "comet.log", clock);
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
                             TimeSource& clock, std::shared_ptr<search::RoomIndex> index)
    : room_(std::move(room)),
      comet_(config.comet),
      cookie_path_(config.site.cookie_path),
      assets_(assets),
      clock_(clock),
      time_(clock),
      access_log_(make_access_log(config.site.access_log, room_->settings().config, clock)),
      post_log_(std::filesystem::path(room_->settings().config.data_dir) / "logs" / "post.log", clock),
      api_log_(std::filesystem::path(room_->settings().config.data_dir) / "logs" / "api.log", clock),
      index_(std::move(index)) {
  embeddable_ = frame_ancestors_of(config.site.frame_ancestors);
  poster_alias_ = original_poster_name(room_->settings().config.name);
  if (!room_->settings().config.htpasswd.empty())
    private_ = std::make_unique<PrivateRoom>(*room_, clock, api_log_);
  build_table();
}

RoomEndpoints::~RoomEndpoints() { blocking_.join(); }

// The room's URLs (docs/PROTOCOL.md). First match wins.
void RoomEndpoints::build_table() {
  auto to = [this](void (RoomEndpoints::*handler)(const Call&)) {
    return [this, handler](const Call& call) { (this->*handler)(call); };
  };
  table_.add({"", Match::exact, kGetHead, to(&RoomEndpoints::page)});
  if (private_) {
    table_.add(
        {"passwd", Match::exact, kGetHead | kPost, [this](const Call& call) { private_->passwd(call); }});
  } else {
    table_.add({"passwd", Match::exact, kAnyMethod, [](const Call& call) {
                  call.ex->respond(
                      error_response(bhttp::status::not_found, "this room is public: it has no passwords"));
                }});
  }
  for (const std::string& poster : {std::string("post"), "chaton-poster-" + room_->slug(), poster_alias_})
    table_.add({poster, Match::exact, kPost, to(&RoomEndpoints::post)});
  // HEAD is taken wherever GET is; these two list only GET, as they always did.
  table_.add({"comet", Match::exact, kGet, to(&RoomEndpoints::comet)});
  table_.add({"events", Match::exact, kGet, to(&RoomEndpoints::events)});
  table_.add({"apilogin", Match::exact, kPost, to(&RoomEndpoints::apilogin), false, &api_log_});
  for (const char* which : {"var/seq", "var/status.js", "var/status.scm", "var/index.rdf"})
    table_.add({which, Match::exact, kGetHead, to(&RoomEndpoints::status)});
  table_.add({"a", Match::exact, kAnyMethod, [this](const Call& call) {
                call.ex->respond(
                    redirect_response(bhttp::status::moved_permanently, room_->settings().url + "a/"));
              }});
  // The archive pages read the disk: off the I/O threads.
  table_.add({"a/", Match::prefix, kGetHead, to(&RoomEndpoints::archive), /*may_block=*/true});
  for (const char* which : {"b", "badge.html", "badge.svg"})
    table_.add({which, Match::exact, kGetHead, to(&RoomEndpoints::badge)});
  // Queues the search on the room's SearchQueue: does not block.
  table_.add({"search", Match::exact, kGetHead, to(&RoomEndpoints::search)});
  // The content-hashed names never change meaning; "chaton.css" is the
  // stylesheet under a name that does (the room index links it).
  table_.add({"chaton.css", Match::exact, kGetHead, [this](const Call& call) {
                asset(call, "text/css; charset=utf-8", assets_.css, assets_.css_gzip, assets_.css_etag, false);
              }});
  table_.add({assets_.css_name, Match::exact, kGetHead, [this](const Call& call) {
                asset(call, "text/css; charset=utf-8", assets_.css, assets_.css_gzip, assets_.css_etag, true);
              }});
  table_.add({assets_.js_name, Match::exact, kGetHead, [this](const Call& call) {
                asset(call, "text/javascript; charset=utf-8", assets_.js, assets_.js_gzip, assets_.js_etag, true);
              }});
}

void RoomEndpoints::handle(const ExchangePtr& ex, std::string_view sub, Target target) {
  Call call{ex, std::move(target), std::string(sub), {}, {}};
  if (!private_) return dispatch(std::move(call));
  private_->authenticate(ex, [this, call = std::move(call)](std::string user) mutable {
    call.user = std::move(user);
    dispatch(std::move(call));
  });
}

void RoomEndpoints::dispatch(Call call) {
  ExchangePtr ex = call.ex;
  if (!table_.dispatch(std::move(call)))
    ex->respond(error_response(bhttp::status::not_found, "no such page in room '" + room_->slug() + "'"));
}

void RoomEndpoints::flush_logs() {
  if (access_log_) access_log_->flush();
  post_log_.flush();
  api_log_.flush();
}

void RoomEndpoints::reopen_logs() {
  if (access_log_) access_log_->reopen();
  post_log_.reopen();
  api_log_.reopen();
}

void RoomEndpoints::page(const Call& call) {
  call.ex->respond(compressed(
      call.ex->request(),
      html_response(bhttp::status::ok,
                    render_room_page(page_room(room_->settings()), assets_, cookie_path_, call.user),
                    embeddable_)));
}

void RoomEndpoints::asset(const Call& call, std::string_view content_type, const std::string& body,
                          const std::shared_ptr<const std::string>& gzipped, const std::string& etag,
                          bool immutable) {
  CachePolicy policy{
      immutable ? "public, max-age=31536000, immutable" : "public, max-age=300", {}, gzipped, etag};
  call.ex->respond(
      cacheable(call.ex->request(), make_response(bhttp::status::ok, content_type, body), policy));
}

// How long a cache may keep an archive page: a past day, for a day (it
// changes only when a post is moderated away, and then its ETag changes);
// today's page and the indexes, briefly. A private room's pages are for
// its users' browsers only.
std::string RoomEndpoints::archive_cache_control(bool past_day) const {
  return std::string(private_ ? "private" : "public") + (past_day ? ", max-age=86400" : ", max-age=30");
}

// On the blocking pool (it reads the disk): answering from here is safe,
// Exchange::respond() hops to the connection's strand (http/exchange.h).
void RoomEndpoints::archive(const Call& call) {
  const ExchangePtr& ex = call.ex;
  auto page = parse_page(call.target, kMaxArchivePage);
  if (!page) return ex->respond(error_response(page.status()));
  PageReply reply =
      archive_reply(*room_, call.rest, utc_from_seconds(to_stamp(clock_.now()).sec).date, *page, script_url());
  if (reply.status == 302) {
    Response res = redirect_response(bhttp::status::found, reply.location);
    res.set(bhttp::field::cache_control, "no-cache");
    return ex->respond(std::move(res));
  }
  if (reply.status != 200)
    return ex->respond(
        compressed(ex->request(), html_response(bhttp::status::not_found, std::move(reply.body))));
  // ETag only: a page also shows its neighbours (the next day with
  // posts), which change with no post of its own.
  CachePolicy policy{archive_cache_control(reply.past_day), std::nullopt, nullptr};
  ex->respond(cacheable(ex->request(), html_response(bhttp::status::ok, std::move(reply.body)), policy));
}

void RoomEndpoints::badge(const Call& call) {
  const ExchangePtr& ex = call.ex;
  const std::string& which = call.path;
  const auto& s = room_->settings();
  auto st = room_->status();
  BadgeInfo info{s.config.name,   s.url,        s.config.icon_url,
                 st.num_chatters, st.last_post, to_stamp(clock_.now()).sec};
  if (which == "badge.html")
    return ex->respond(compressed(
        ex->request(),
        html_response(bhttp::status::ok, render_badge_page(page_room(s), assets_, info), embeddable_)));
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

std::string RoomEndpoints::script_url() const { return room_->settings().url + assets_.js_name; }

void RoomEndpoints::search(const Call& call) {
  const ExchangePtr& ex = call.ex;
  std::string raw(call.target.query.get("q").value_or(""));
  auto parsed_page = parse_page(call.target, search::kMaxPage);
  if (!parsed_page) return ex->respond(error_response(parsed_page.status()));
  size_t page = *parsed_page;
  search::Query query = search::parse_query(raw);
  pages::PageRoom shown = page_room(room_->settings(), script_url());
  if (query.empty())
    return ex->respond(
        html_response(bhttp::status::ok, render_search_page(shown, raw, query, search::Results{})));
  auto submitted = searches_->submit(
      client_group(ex->client_address()),  // an IPv6 client counts by its /64
      [room = room_, index = index_, ex, raw = std::move(raw), query = std::move(query), page,
       shown = std::move(shown)](const search::StopFlag& cancelled) {
        RoomDays days(*room);
        search::Budget budget{&cancelled, search::deadline_after(search::kSearchTimeBudget)};
        search::Results results;
        // Through the index when it could be brought up to date; the same
        // results either way (search/search_index.h).
        Status fresh = index ? index->refresh(&cancelled) : Status(Errc::not_found, "");
        if (fresh) {
          auto narrowed = index->narrow(query, days);
          results = search::find(*narrowed, query, page, search::kPageSize, budget);
        } else {
          if (index) log_warning("search index of room " + room->slug() + ": " + fresh.message());
          results = search::find(days, query, page, search::kPageSize, budget);
        }
        if (results.cancelled) return ex->abandon();
        ex->respond(html_response(bhttp::status::ok, render_search_page(shown, raw, query, results)));
      });
  if (submitted.verdict != search::SearchQueue::Verdict::ok) {
    Response res = error_response(bhttp::status::too_many_requests,
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

void RoomEndpoints::post(const Call& call) {
  const ExchangePtr& ex = call.ex;
  auto form = parse_form(ex->request(), call.target.query);
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

void RoomEndpoints::comet(const Call& call) {
  const ExchangePtr& ex = call.ex;
  const Target& target = call.target;
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
  start_long_poll(room_, ex, req, comet_, time_);
}

void RoomEndpoints::events(const Call& call) {
  const ExchangePtr& ex = call.ex;
  const Target& target = call.target;
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
  start_event_stream(room_, ex, *pos, format, comet_, time_);
}

UpgradeDecision RoomEndpoints::websocket(const Request& req, const Target& target,
                                         const std::string& address) {
  UpgradeDecision d;
  if (private_) {
    if (auto refusal = private_->authenticate_now(req, address)) {
      d.refusal = std::move(*refusal);
      return d;
    }
  }
  auto pos = parse_position(target.query.get("p"));
  if (!pos) {
    d.refusal = error_response(pos.status());
    return d;
  }
  d.peer = make_ws_room_peer(room_, *pos, address, comet_, time_);
  return d;
}

void RoomEndpoints::apilogin(const Call& call) {
  const ExchangePtr& ex = call.ex;
  auto form = parse_form(ex->request(), call.target.query);
  if (!form) return ex->respond(error_response(form.status()));
  auto who = form->get("who");
  if (!who) {
    api_log_.write("401 Unauthorized: 'who' parameter missing (" + ex->client_address() + ")");
    return ex->respond(error_response(bhttp::status::unauthorized, "'who' parameter missing"));
  }
  bool sexpr = form->get("s").value_or("1") == "1";
  // The reply waits until the other nodes know the cid (a shared store),
  // so the client may take it to any of them at once.
  room_->allocate_cid_then(ex->client_address(), [this, ex, who = std::string(*who), sexpr](Cid cid) {
    const auto& s = room_->settings();
    auto st = room_->status();
    api_log_.write("authenticated " + who + " (" + ex->client_address() + ")");
    std::string body =
        render_alist({text_member("post-uri", s.url + "post"), text_member("comet-uri", s.url + "comet"),
                      text_member("icon-uri", s.config.icon_url), text_member("room-name", s.config.name),
                      number_member("cid", cid), number_member("pos", static_cast<int64_t>(st.sequence))},
                     sexpr);
    Response res = make_response(
        bhttp::status::ok, sexpr ? "application/x-sexpr; charset=utf-8" : "application/json; charset=utf-8",
        std::move(body));
    res.set(bhttp::field::cache_control, "no-cache");
    ex->respond(std::move(res));
  });
}

void RoomEndpoints::status(const Call& call) {
  const ExchangePtr& ex = call.ex;
  std::string_view which = std::string_view(call.path).substr(4);  // after "var/"
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
  res.set(bhttp::field::access_control_allow_origin, "*");
  // Asked again on every view, answered 304 while nothing changed. The
  // feed is its posts: it changes with the last post (and when one is
  // moderated away, which its ETag tells); the status files also count
  // chatters, so they have an ETag only. Last-Modified has whole seconds:
  // while the last post is in the current second another may follow in it,
  // so the feed says no time until that second is over.
  std::optional<int64_t> last_modified;
  if (which == "index.rdf" && st.last_post > 0 && st.last_post < to_stamp(clock_.now()).sec)
    last_modified = st.last_post;
  ex->respond(cacheable(ex->request(), std::move(res), CachePolicy{"no-cache", last_modified, nullptr}));
}

}  // namespace chaton::endpoints
