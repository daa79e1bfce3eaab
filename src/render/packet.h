// The comet reply packet (docs/PROTOCOL.md, "The comet long-poll") in its three
// formats:
//
//   json  {"pos":P,"nc":N,"ver":"V","cid":C,"content":[["nick",[sec,usec],"text"],...]}
//   sexpr ((pos . P) (nc . N) (ver . "V") (cid . C) (content ("nick" (sec usec) "text") ...))
//   web   {"pos":P,"nc":N,"ver":"V","cid":C,"content":"<html>"} with "refresh":true
//         when the client must clear its view first.
//
// A packet is split in two so one content fragment, rendered once per new
// batch of posts, is shared by every waiting client: render_content() makes
// the fragment, wrap_packet() adds the per-client envelope around it.
// Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "messages/post.h"
#include "render/html.h"

namespace chaton {

enum class PacketFormat { web, json, sexpr };

struct PacketHeader {
  uint64_t pos = 0;
  uint64_t nc = 0;
  std::string_view ver;
  int64_t cid = 0;
  bool refresh = false;  // web only; ignored by the other formats
};

// json: the array `[...]`; sexpr: the items after `content` with a leading
// space each (empty when no posts); web: the JSON string literal of the HTML.
std::string render_content(PacketFormat fmt, std::span<const Post> posts, const Post* previous,
                           const RenderOptions& opts);

std::string wrap_packet(PacketFormat fmt, const PacketHeader& h, std::string_view content);
// The envelope wrap_packet() puts around the content, in two parts (for a
// reply that writes the shared content from where it is):
// head + content + tail == wrap_packet(fmt, h, content).
void append_packet_head(std::string& out, PacketFormat fmt, const PacketHeader& h);
std::string_view packet_tail(PacketFormat fmt, const PacketHeader& h);  // static storage

// The content fragment for no posts in the given format.
std::string_view empty_content(PacketFormat fmt);

std::string_view content_type(PacketFormat fmt);  // with "; charset=utf-8"

}  // namespace chaton
