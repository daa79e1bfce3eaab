// PrivateRoom: see private_room.h.
#include "endpoints/private_room.h"

#include <boost/asio/post.hpp>

#include "endpoints/page_data.h"
#include "http/params.h"
#include "http/responses.h"
#include "pages/pages.h"
#include "util/log.h"

namespace chaton::endpoints {

using http::Credentials;
using http::error_response;
using http::ExchangePtr;
using http::html_response;
using http::Params;
using http::parse_basic_auth;
using http::parse_form;
using http::Request;
using http::Response;
using http::status_for;
using http::unauthorized;
using pages::PasswdForm;
using pages::render_passwd_page;
namespace bhttp = boost::beast::http;

namespace net = boost::asio;

PrivateRoom::PrivateRoom(const Room& room, const Clock& clock, LogFile& api_log)
    : room_(room),
      api_log_(api_log),
      users_(room.settings().config.htpasswd, clock),
      login_checks_(kLoginChecksPerSecond, kLoginCheckBurst, AddressRanges{}, clock) {}

PrivateRoom::~PrivateRoom() { login_pool_.join(); }

std::optional<Response> PrivateRoom::check(const Request& req, const std::string& address,
                                           std::optional<Credentials>& creds, bool& slow) {
  const std::string& realm = room_.settings().config.name;
  creds = parse_basic_auth(req[bhttp::field::authorization]);
  if (!creds) return unauthorized(realm, "this room is private: log in with your user name and password");
  if (users_.known(creds->user, creds->password)) return std::nullopt;
  if (int wait = login_checks_.acquire(address); wait > 0) {
    return error_response(
        Status(Errc::rate_limited,
               "too many login attempts from your address; try again in " + std::to_string(wait) + " s")
            .with_retry_after(wait));
  }
  slow = true;
  return std::nullopt;
}

void PrivateRoom::authenticate(const ExchangePtr& ex, std::function<void(std::string user)> then) {
  std::optional<Credentials> creds;
  bool slow = false;
  if (auto refusal = check(ex->request(), ex->client_address(), creds, slow))
    return ex->respond(std::move(*refusal));
  if (!slow) return then(creds->user);
  net::post(login_pool_, [this, ex, then = std::move(then), creds = std::move(*creds)]() mutable {
    bool ok = users_.verify(creds.user, creds.password) == Htpasswd::Verdict::allowed;
    net::post(ex->executor(), [this, ex, then = std::move(then), user = std::move(creds.user), ok]() mutable {
      if (!ok) {
        api_log_.write("401 wrong user name or password for '" + user + "' (" + ex->client_address() + ")");
        return ex->respond(unauthorized(room_.settings().config.name, "wrong user name or password"));
      }
      then(std::move(user));
    });
  });
}

std::optional<Response> PrivateRoom::authenticate_now(const Request& req, const std::string& address) {
  std::optional<Credentials> creds;
  bool slow = false;
  if (auto refusal = check(req, address, creds, slow)) return refusal;
  if (slow && users_.verify(creds->user, creds->password) != Htpasswd::Verdict::allowed)
    return unauthorized(room_.settings().config.name, "wrong user name or password");
  return std::nullopt;
}

void PrivateRoom::passwd(const Call& call) {
  const ExchangePtr& ex = call.ex;
  auto answer = [ex, room = page_room(room_.settings()), user = call.user](
                    bhttp::status code, std::string message, bool changed) {
    PasswdForm form{user, std::move(message), changed, kMinPasswordLength, kMaxPasswordLength};
    ex->respond(html_response(code, render_passwd_page(room, form)));
  };
  if (ex->request().method() != bhttp::verb::post) return answer(bhttp::status::ok, {}, false);
  auto form = parse_form(ex->request(), Params{});
  if (!form) return ex->respond(error_response(form.status()));
  std::string old_pw(form->get("old").value_or(""));
  std::string new_pw(form->get("new").value_or(""));
  std::string again(form->get("again").value_or(new_pw));
  if (new_pw != again) return answer(bhttp::status::bad_request, "the two new passwords differ", false);
  // bcrypt twice (check and new hash): on the login thread.
  net::post(login_pool_, [this, ex, answer, user = call.user, old_pw, new_pw] {
    Status st = users_.change_password(user, old_pw, new_pw);
    net::post(ex->executor(), [this, ex, answer, user, st] {
      if (st) {
        api_log_.write("password changed for '" + user + "' (" + ex->client_address() + ")");
        return answer(bhttp::status::ok, "Your password was changed.", true);
      }
      if (st.code() == Errc::io)
        log_error("room " + room_.slug() + ": changing a password failed: " + st.message());
      answer(status_for(st.code()),
             st.code() == Errc::io ? "the password file could not be written; try again later" : st.message(),
             false);
    });
  });
}

}  // namespace chaton::endpoints
