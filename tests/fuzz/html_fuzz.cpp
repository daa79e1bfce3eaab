// Fuzzes the HTML renderer (render/html.h): the text of a post, with its
// links, inline images and video embeds, and whole posts with their headers
// and permalinks. Every output must be well-formed and script-free, which
// a small checker below verifies, aborting on:
//   - an element the renderer never emits (a <script> above all), or an
//     <a> inside another <a>;
//   - an attribute it never emits, an on...= event handler above all, an
//     unquoted value, or a raw '<' or '>' inside a value;
//   - an href or src that is not http(s) (javascript:, data:, ...), or an
//     iframe that is not a YouTube or niconico embed;
//   - a raw '>', '"' or '\'' in text, a '<' that does not start a well-formed
//     tag, or an '&' that starts no entity the escaper writes;
//   - a closing tag that does not match the open element, or an element left
//     open at the end (void elements such as img excepted).
//
// The input is a post's text; "NICK\0TEXT" gives the nickname too. The stamp
// is derived from the input, so the seeds are plain text.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "fuzz_check.h"
#include "render/html.h"

using chaton::fuzz::require;

namespace {

constexpr std::string_view kRoomUrl = "https://chat.example.org/lobby/";
constexpr std::string_view kDefaultNick = "fuzz";
constexpr int64_t kGroupGapSeconds = 60;  // within kHeaderGroupSeconds: no second header
constexpr int64_t kUsecPerSecond = 1000000;
constexpr std::string_view kAddress = "192.0.2.7";

constexpr std::array<std::string_view, 7> kElements = {"a", "div", "span", "pre", "img", "iframe", "time"};
constexpr std::array<std::string_view, 2> kVoidElements = {"img", "br"};
constexpr std::array<std::string_view, 15> kAttributes = {
    "href",  "rel",    "target", "class", "id",    "src",      "alt",       "loading",
    "width", "height", "title",  "allow", "datetime", "tabindex", "aria-label"};
constexpr std::string_view kBareAttribute = "allowfullscreen";
constexpr std::array<std::string_view, 5> kEntities = {"&amp;", "&lt;", "&gt;", "&quot;", "&#39;"};
constexpr std::string_view kEntityChars = "&<>\"'";  // what each of kEntities stands for
constexpr std::array<std::string_view, 2> kSafeSchemes = {"http://", "https://"};
constexpr std::array<std::string_view, 3> kScriptSchemes = {"javascript:", "data:", "vbscript:"};
constexpr std::array<std::string_view, 2> kEmbedBases = {"https://www.youtube-nocookie.com/embed/",
                                                         "https://embed.nicovideo.jp/watch/"};

template <size_t N>
bool one_of(std::string_view s, const std::array<std::string_view, N>& set) {
  return std::find(set.begin(), set.end(), s) != set.end();
}

bool is_name_char(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; }

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// Checks one piece of rendered HTML; every failure aborts.
class HtmlChecker {
 public:
  explicit HtmlChecker(std::string_view html) : s_(html) {}

  void check() {
    while (i_ < s_.size()) {
      char c = s_[i_];
      if (c == '<') {
        tag();
      } else if (c == '&') {
        decoded_entity();
      } else {
        require(c != '>' && c != '"' && c != '\'', "a raw '>' or quote in text");
        ++i_;
      }
    }
    require(open_.empty(), "an element is left open");
  }

 private:
  // The entity at i_, which must be one the escaper writes; returns its character.
  char decoded_entity() {
    for (size_t k = 0; k < kEntities.size(); ++k) {
      if (s_.substr(i_).starts_with(kEntities[k])) {
        i_ += kEntities[k].size();
        return kEntityChars[k];
      }
    }
    require(false, "an '&' that starts no known entity");
    return 0;
  }

  std::string name() {
    std::string n;
    while (i_ < s_.size() && is_name_char(lower(s_[i_]))) n.push_back(lower(s_[i_++]));
    return n;
  }

  void expect(char c, std::string_view what) {
    require(i_ < s_.size() && s_[i_] == c, what);
    ++i_;
  }

  void tag() {
    ++i_;  // '<'
    if (i_ < s_.size() && s_[i_] == '/') {
      ++i_;
      std::string n = name();
      expect('>', "a malformed closing tag");
      require(!open_.empty() && open_.back() == n, "a closing tag does not match the open element");
      open_.pop_back();
      return;
    }
    std::string n = name();
    require(n != "script", "a <script> element");
    require(one_of(n, kElements), "a '<' that starts no element the renderer emits");
    require(n != "a" || std::find(open_.begin(), open_.end(), "a") == open_.end(), "a link inside a link");
    for (;;) {
      require(i_ < s_.size(), "a tag that never ends");
      if (s_[i_] == '>') break;
      expect(' ', "attributes not separated by a space");
      attribute(n);
    }
    ++i_;  // '>'
    if (!one_of(n, kVoidElements)) open_.push_back(n);
  }

  void attribute(const std::string& element) {
    std::string n = name();
    require(!n.starts_with("on"), "an on...= event handler attribute");
    if (n == kBareAttribute) {
      require(i_ >= s_.size() || s_[i_] != '=', "allowfullscreen with a value");
      return;
    }
    require(one_of(n, kAttributes), "an attribute the renderer never emits");
    expect('=', "an attribute without a value");
    expect('"', "an unquoted attribute value");
    std::string value;
    while (i_ < s_.size() && s_[i_] != '"') {
      char c = s_[i_];
      require(c != '<' && c != '>', "a raw '<' or '>' in an attribute value");
      if (c == '&') {
        value.push_back(decoded_entity());
      } else {
        value.push_back(c);
        ++i_;
      }
    }
    expect('"', "an attribute value that never ends");
    if (n == "href" || n == "src") url(element, value);
  }

  static void url(const std::string& element, std::string_view value) {
    std::string plain;  // what a browser would look at: no blanks, lowercase
    for (char c : value)
      if (static_cast<unsigned char>(c) > ' ') plain.push_back(lower(c));
    for (std::string_view scheme : kScriptSchemes)
      require(!plain.starts_with(scheme), "a javascript: or data: URL");
    bool safe = false;
    for (std::string_view scheme : kSafeSchemes)
      safe |= value.starts_with(scheme) || plain.starts_with(scheme);
    require(safe, "a link or source that is not http(s)");
    if (element == "iframe") {
      bool embed = false;
      for (std::string_view base : kEmbedBases) embed |= value.starts_with(base);
      require(embed, "an iframe that is not a video embed");
    }
  }

  std::string_view s_;
  size_t i_ = 0;
  std::vector<std::string> open_;
};

void check_html(std::string_view html) { HtmlChecker(html).check(); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input = chaton::fuzz::as_text(data, size);
  std::string_view nick = kDefaultNick;
  std::string_view text = input;
  if (size_t nul = input.find('\0'); nul != std::string_view::npos) {
    nick = input.substr(0, nul);
    text = input.substr(nul + 1);
  }

  chaton::RenderOptions opts;
  opts.room_url = std::string(kRoomUrl);
  check_html(chaton::render_text(text, opts));

  // Stamps as decode_line() gives them: any non-negative seconds.
  uint64_t h = std::hash<std::string_view>{}(input);
  int64_t sec = static_cast<int64_t>(h & static_cast<uint64_t>(std::numeric_limits<int64_t>::max()));
  int64_t usec = static_cast<int64_t>(h % kUsecPerSecond);
  std::vector<chaton::Post> posts = {
      {std::string(nick), sec, usec, std::string(text), std::string(kAddress), 1},
      {std::string(nick), sec - std::min(sec, kGroupGapSeconds), 0, std::string(nick), std::nullopt, 2},
      {std::string(text), sec, usec, std::string(nick), std::string(kAddress), 3},
  };
  check_html(chaton::render_posts(posts, nullptr, opts));
  check_html(chaton::render_posts(std::span(posts).subspan(1), &posts[0], opts));
  return 0;
}
