// EndpointTable: see endpoint_table.h.
#include "endpoints/endpoint_table.h"

#include <cstdlib>

#include <boost/asio/post.hpp>

#include "http/responses.h"
#include "util/log.h"

namespace chaton::endpoints {

using http::method_not_allowed;
using http::Request;
namespace bhttp = boost::beast::http;

namespace {

// The method's bit; 0 for a method no entry lists (PUT, DELETE, ...).
unsigned method_bit(bhttp::verb method) {
  switch (method) {
    case bhttp::verb::get:
      return kGet;
    case bhttp::verb::head:
      return kHead;
    case bhttp::verb::post:
      return kPost;
    default:
      return 0;
  }
}

bool takes(unsigned methods, bhttp::verb method) {
  if (methods == kAnyMethod) return true;
  unsigned bit = method_bit(method);
  if (bit == kHead) return (methods & (kHead | kGet)) != 0;  // HEAD wherever GET
  return (methods & bit) != 0;
}

}  // namespace

std::string allow_header(unsigned methods) {
  std::string out;
  for (auto [bit, name] : {std::pair{kGet, "GET"}, std::pair{kHead, "HEAD"}, std::pair{kPost, "POST"}}) {
    if ((methods & bit) == 0) continue;
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

void EndpointTable::add(Endpoint endpoint) {
  if (endpoint.may_block && !blocking_) {
    log_error("broken invariant: endpoint '" + endpoint.path +
              "' may block but its table has no blocking pool");
    std::abort();
  }
  entries_.push_back(std::move(endpoint));
}

const Endpoint* EndpointTable::find(std::string_view path) const {
  for (const auto& e : entries_) {
    if (e.match == Match::exact ? path == e.path : path.starts_with(e.path)) return &e;
  }
  return nullptr;
}

bool EndpointTable::dispatch(Call call) const {
  const Endpoint* e = find(call.path);
  if (!e) return false;
  const Request& req = call.ex->request();
  if (!takes(e->methods, req.method())) {
    if (e->refusal_log)
      e->refusal_log->write("405 Method not allowed: " + std::string(req.method_string()) + " (" +
                            call.ex->client_address() + ")");
    call.ex->respond(method_not_allowed(allow_header(e->methods)));
    return true;
  }
  if (e->match == Match::prefix) call.rest = call.path.substr(e->path.size());
  if (e->may_block) {
    boost::asio::post(*blocking_, [e, call = std::move(call)]() mutable { e->handler(call); });
    return true;
  }
  e->handler(call);
  return true;
}

}  // namespace chaton::endpoints
