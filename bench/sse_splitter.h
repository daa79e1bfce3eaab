// SseSplitter: cuts a Server-Sent Events byte stream into events.
// Thread-safety: none; one per stream. Lifetime: none beyond the object.
#pragma once

#include <string>
#include <string_view>

namespace chaton::bench {

// Cuts a Server-Sent Events byte stream into events, by the rules of the
// event-stream format: lines end in LF, CR LF or CR; a line starting with
// ':' is a comment; "data:" lines add to the event's data (joined by LF),
// "id:" sets the last event id, other fields (retry:, event:) are ignored;
// a blank line ends the event, which is dispatched if it has data.
class SseSplitter {
 public:
  void reset() {
    line_.clear();
    data_.clear();
    id_.clear();
    after_cr_ = false;
  }

  // Calls on_event(id, data) for each event completed by `bytes`; stops,
  // returning false, as soon as on_event returns false.
  template <class F>
  bool feed(std::string_view bytes, F&& on_event) {
    while (!bytes.empty()) {
      if (after_cr_ && bytes.front() == '\n') bytes.remove_prefix(1);  // the LF of a CR LF
      after_cr_ = false;
      size_t eol = bytes.find_first_of("\r\n");
      if (eol == std::string_view::npos) {
        line_.append(bytes);
        return true;
      }
      line_.append(bytes.substr(0, eol));
      after_cr_ = bytes[eol] == '\r';
      bytes.remove_prefix(eol + 1);
      bool go = end_line(on_event);
      line_.clear();
      if (!go) return false;
    }
    return true;
  }

 private:
  template <class F>
  bool end_line(F& on_event) {
    if (line_.empty()) {
      if (data_.empty()) return true;
      data_.pop_back();  // the LF after the last data line
      std::string data = std::move(data_);
      data_.clear();
      return on_event(std::string_view(id_), std::string_view(data));
    }
    if (line_.front() == ':') return true;
    std::string_view line(line_);
    size_t colon = line.find(':');
    std::string_view field = line.substr(0, colon);
    std::string_view value = colon == std::string_view::npos ? std::string_view() : line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    if (field == "data") {
      data_.append(value);
      data_ += '\n';
    } else if (field == "id") {
      id_.assign(value);
    }
    return true;
  }

  std::string line_, data_, id_;
  bool after_cr_ = false;  // the last byte fed was a CR
};

}  // namespace chaton::bench
