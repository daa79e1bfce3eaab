// The comet reply packet (docs/PROTOCOL.md, "The comet long-poll") in its json,
// sexpr and web formats: the content fragment rendered once per batch of posts,
// and the per-client envelope (pos, nc, ver, cid, and refresh for the web
// format) around it. JSON strings are written by Boost.JSON so their escaping
// is right.

#include "render/packet.h"

#include <charconv>

#include <boost/json/serialize.hpp>
#include <boost/json/string_view.hpp>

#include "util/sexpr.h"

namespace chaton {

namespace {

// Room for a packet's envelope: its head (pos, nc, ver, cid) and tail.
constexpr size_t kPacketHeadReserve = 96;

template <class Number>
void append_number(std::string& out, Number n) {
  char digits[24];
  out.append(digits, std::to_chars(digits, digits + sizeof digits, n).ptr);
}

constexpr std::string_view kEmptyJsonContent = "[]";
constexpr std::string_view kEmptySexprContent = "";
constexpr std::string_view kEmptyWebContent = "\"\"";
constexpr std::string_view kJsonContentType = "application/json; charset=utf-8";
constexpr std::string_view kSexprContentType = "application/x-sexpr; charset=utf-8";

void append_json_string(std::string& out, std::string_view s) {
  out += boost::json::serialize(boost::json::string_view(s.data(), s.size()));
}

void append_json_post(std::string& out, const Post& p) {
  out += '[';
  append_json_string(out, p.nick);
  out += ",[";
  out += std::to_string(p.sec);
  out += ',';
  out += std::to_string(p.usec);
  out += "],";
  append_json_string(out, p.text);
  out += ']';
}

std::string json_content(std::span<const Post> posts) {
  std::string out = "[";
  bool first = true;
  for (const Post& p : posts) {
    if (!first) out += ',';
    first = false;
    append_json_post(out, p);
  }
  out += ']';
  return out;
}

std::string sexpr_content(std::span<const Post> posts) {
  std::string out;
  for (const Post& p : posts) {
    out += " (";
    append_sexpr_string(out, p.nick);
    out += " (";
    out += std::to_string(p.sec);
    out += ' ';
    out += std::to_string(p.usec);
    out += ") ";
    append_sexpr_string(out, p.text);
    out += ')';
  }
  return out;
}

std::string web_content(std::span<const Post> posts, const Post* previous, const RenderOptions& opts) {
  std::string out;
  append_json_string(out, render_posts(posts, previous, opts));
  return out;
}

void append_json_head(std::string& out, const PacketHeader& h) {
  out += "{\"pos\":";
  append_number(out, h.pos);
  out += ",\"nc\":";
  append_number(out, h.nc);
  out += ",\"ver\":";
  append_json_string(out, h.ver);
  out += ",\"cid\":";
  append_number(out, h.cid);
  out += ",\"content\":";
}

void append_sexpr_head(std::string& out, const PacketHeader& h) {
  out += "((pos . ";
  append_number(out, h.pos);
  out += ") (nc . ";
  append_number(out, h.nc);
  out += ") (ver . ";
  append_sexpr_string(out, h.ver);
  out += ") (cid . ";
  append_number(out, h.cid);
  out += ") (content";
}

}  // namespace

std::string render_content(PacketFormat fmt, std::span<const Post> posts, const Post* previous,
                           const RenderOptions& opts) {
  switch (fmt) {
    case PacketFormat::json:
      return json_content(posts);
    case PacketFormat::sexpr:
      return sexpr_content(posts);
    case PacketFormat::web:
      return web_content(posts, previous, opts);
  }
  return std::string(empty_content(fmt));
}

void append_packet_head(std::string& out, PacketFormat fmt, const PacketHeader& h) {
  if (fmt == PacketFormat::sexpr) return append_sexpr_head(out, h);
  append_json_head(out, h);
}

std::string_view packet_tail(PacketFormat fmt, const PacketHeader& h) {
  switch (fmt) {
    case PacketFormat::json:
      return "}";
    case PacketFormat::web:
      return h.refresh ? ",\"refresh\":true}" : "}";
    case PacketFormat::sexpr:
      return "))";
  }
  return "}";
}

std::string wrap_packet(PacketFormat fmt, const PacketHeader& h, std::string_view content) {
  std::string out;
  std::string_view tail = packet_tail(fmt, h);
  out.reserve(kPacketHeadReserve + content.size() + tail.size());
  append_packet_head(out, fmt, h);
  out += content;
  out += tail;
  return out;
}

std::string_view empty_content(PacketFormat fmt) {
  switch (fmt) {
    case PacketFormat::json:
      return kEmptyJsonContent;
    case PacketFormat::sexpr:
      return kEmptySexprContent;
    case PacketFormat::web:
      return kEmptyWebContent;
  }
  return kEmptyJsonContent;
}

std::string_view content_type(PacketFormat fmt) {
  switch (fmt) {
    case PacketFormat::json:
    case PacketFormat::web:
      return kJsonContentType;
    case PacketFormat::sexpr:
      return kSexprContentType;
  }
  return kJsonContentType;
}

}  // namespace chaton
